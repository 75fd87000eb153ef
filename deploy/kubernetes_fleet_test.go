package deploy_test

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// deployment is a Deployment, as far as the tests read it.
type deployment struct {
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []fleetContainer `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					PersistentVolumeClaim *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// fleetContainer is a container of a Deployment.
type fleetContainer struct {
	container `yaml:",inline"`
	Image     string `yaml:"image"`
}

type keyRef struct{ Name, Key string }

// envFrom returns the Secret or ConfigMap key an env variable comes from.
func (c *fleetContainer) envFrom(name string) (secret, configMap *keyRef) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef, e.ValueFrom.ConfigMapKeyRef
		}
	}
	return nil, nil
}

func (d *deployment) container(t *testing.T, name string) *fleetContainer {
	t.Helper()
	for i, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return &d.Spec.Template.Spec.Containers[i]
		}
	}
	t.Fatalf("Deployment %s has no container %s", d.Metadata.Name, name)
	return nil
}

type secret struct {
	StringData map[string]string `yaml:"stringData"`
}

// argValue returns the value of --name= in args.
func argValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// TestFleetDeployment checks the agents of a location as the fleet set-up
// installs them: a Deployment whose --storage.url comes from a Secret that
// the set-up has, whose password is not in the URL, and whose flags
// `uxprobe run` knows.
func TestFleetDeployment(t *testing.T) {
	for _, m := range setup(t, fleetDir) {
		if m.Meta.Kind == "StatefulSet" {
			t.Errorf("%s: the fleet needs no StatefulSet", m.File)
		}
	}
	// Each overlay installs the base under its own names; the tests read it
	// once, and the overlays' own fields in TestFleetOverlays.
	base := filepath.Join(kubernetesDir, "base")
	var d deployment
	object(t, base, "Deployment", &d, "uxprobe")
	c := d.container(t, "uxprobe")
	var storage secret
	object(t, fleetDir, "Secret", &storage, "uxprobe-storage")
	var cm struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	object(t, fleetDir, "ConfigMap", &cm)
	var svc struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Port int `yaml:"port"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	object(t, base, "Service", &svc, "uxprobe")

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"flags exist in uxprobe run --help", func(t *testing.T) {
			flags := uxprobeRunFlags(t)
			if err := flags.check("the fleet Deployment's args", c.Args); err != nil {
				t.Error(err)
			}
		}},
		{"--storage.url from the Secret, the password apart", func(t *testing.T) {
			v, ok := argValue(c.Args, "storage.url")
			if !ok || v != "$(UXPROBE_STORAGE_URL)" {
				t.Fatalf("--storage.url=%q, want $(UXPROBE_STORAGE_URL)", v)
			}
			sec, _ := c.envFrom("UXPROBE_STORAGE_URL")
			if sec == nil || sec.Name != "uxprobe-storage" || storage.StringData[sec.Key] == "" {
				t.Fatalf("UXPROBE_STORAGE_URL is not a key of the Secret uxprobe-storage: %+v", sec)
			}
			u, err := url.Parse(storage.StringData[sec.Key])
			if err != nil || u.Scheme != "postgres" || u.User.Username() == "" {
				t.Fatalf("the Secret's URL %q is not postgres://user@host/db", storage.StringData[sec.Key])
			}
			if _, has := u.User.Password(); has {
				t.Error("the Secret's URL holds the password: it would be on the command line; use PGPASSWORD")
			}
			pw, _ := c.envFrom("PGPASSWORD")
			if pw == nil || pw.Name != "uxprobe-storage" || storage.StringData[pw.Key] == "" {
				t.Errorf("PGPASSWORD is not a key of the Secret uxprobe-storage: %+v", pw)
			}
		}},
		{"--location from the overlay's ConfigMap", func(t *testing.T) {
			if v, _ := argValue(c.Args, "location"); v != "$(UXPROBE_LOCATION)" {
				t.Fatalf("--location=%q, want $(UXPROBE_LOCATION)", v)
			}
			if _, ref := c.envFrom("UXPROBE_LOCATION"); ref == nil || ref.Name != "uxprobe-location" || ref.Key != "location" {
				t.Errorf("UXPROBE_LOCATION is not the key location of the ConfigMap uxprobe-location: %+v", ref)
			}
		}},
		{"no shard and no local history", func(t *testing.T) {
			for _, f := range []string{"shard", "storage.path"} {
				if _, ok := argValue(c.Args, f); ok {
					t.Errorf("--%s: the agents of a location split the runs through PostgreSQL", f)
				}
			}
		}},
		{"flows from the shared ConfigMap", func(t *testing.T) {
			name := c.mountedVolume("/etc/uxprobe/flows")
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name && slices.Contains(c.Args, "/etc/uxprobe/flows") {
					return
				}
			}
			t.Errorf("/etc/uxprobe/flows is not the ConfigMap %s", cm.Metadata.Name)
		}},
		{"probes, port and a read-only root", func(t *testing.T) {
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/-/healthy" ||
				c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/-/ready" {
				t.Error("no /-/healthy liveness and /-/ready readiness probes")
			}
			if c.port("metrics") != 9747 || len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].Port != 9747 {
				t.Error("no metrics port 9747 on the container and the Service")
			}
			if c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
				t.Error("the root filesystem is writable")
			}
			if dir, _ := argValue(c.Args, "artifacts"); c.mountedVolume("/tmp") == "" || !strings.HasPrefix(dir, "/tmp/") {
				t.Errorf("--artifacts=%q is not under the writable /tmp", dir)
			}
		}},
		{"the Service selects the pods", func(t *testing.T) {
			for k, v := range svc.Spec.Selector {
				if d.Spec.Template.Metadata.Labels[k] != v {
					t.Errorf("the Service selects %s=%s, which the pods lack", k, v)
				}
			}
			for k, v := range d.Spec.Selector.MatchLabels {
				if d.Spec.Template.Metadata.Labels[k] != v {
					t.Errorf("the Deployment selects %s=%s, which its pods lack", k, v)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

// locationName is what --location takes.
var locationName = regexp.MustCompile(`^[a-z0-9-]+$`)

// TestFleetOverlays: one overlay per location, each naming its location in
// its object names, its selectors and --location, with a number of agents;
// the example is three agents in two locations, and the fleet installs
// every overlay.
func TestFleetOverlays(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(kubernetesDir, "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	top := readKustomization(t, fleetDir)
	agents := 0
	var locations []string
	for _, e := range entries {
		loc := e.Name()
		locations = append(locations, loc)
		t.Run(loc, func(t *testing.T) {
			dir := filepath.Join(kubernetesDir, "overlays", loc)
			k := readKustomization(t, dir)
			if !locationName.MatchString(loc) {
				t.Errorf("%q is not a location name ([a-z0-9-])", loc)
			}
			if !slices.Equal(k.Resources, []string{"../../base"}) {
				t.Errorf("resources %q, want the base only", k.Resources)
			}
			if k.NameSuffix != "-"+loc {
				t.Errorf("nameSuffix %q, want -%s: two locations in one namespace would clash", k.NameSuffix, loc)
			}
			labelled := false
			for _, l := range k.Labels {
				labelled = labelled || l.Pairs["uxprobe.dev/location"] == loc && l.IncludeSelectors
			}
			if !labelled {
				t.Errorf("no label uxprobe.dev/location=%s with includeSelectors: one location's Service would select another's pods", loc)
			}
			gen := false
			for _, g := range k.ConfigMapGenerator {
				gen = gen || g.Name == "uxprobe-location" && slices.Equal(g.Literals, []string{"location=" + loc})
			}
			if !gen {
				t.Errorf("no ConfigMap uxprobe-location with location=%s for --location", loc)
			}
			replicas := 0
			for _, p := range k.Patches {
				var ops []struct {
					Op, Path string
					Value    any
				}
				if err := yaml.Unmarshal([]byte(p.Patch), &ops); err != nil {
					t.Fatalf("patch of %s: %v", p.Target.Kind, err)
				}
				for _, op := range ops {
					if p.Target.Kind == "Deployment" && p.Target.Name == "uxprobe" && op.Op == "replace" && op.Path == "/spec/replicas" {
						replicas, _ = strconv.Atoi(strings.TrimSpace(yamlString(op.Value)))
					}
				}
			}
			if replicas < 1 {
				t.Errorf("no patch of the Deployment's replicas to a number of agents")
			}
			agents += replicas
			if !slices.Contains(top.Resources, "overlays/"+loc) {
				t.Errorf("%s/kustomization.yaml does not install overlays/%s", fleetDir, loc)
			}
		})
	}
	if len(locations) != 2 || agents != 3 {
		t.Errorf("%d agents in locations %q; the example (and the README) is three agents in two locations", agents, locations)
	}
}

func yamlString(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	}
	return ""
}

// TestExamplePostgres: the PostgreSQL for trying the fleet is one pod on a
// PVC, reachable where the Secret's URL says, with the user, database and
// password the agents use.
func TestExamplePostgres(t *testing.T) {
	var d deployment
	object(t, fleetDir, "Deployment", &d, "uxprobe-postgres")
	var storage, pg secret
	object(t, fleetDir, "Secret", &storage, "uxprobe-storage")
	object(t, fleetDir, "Secret", &pg, "uxprobe-postgres")
	var svc struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Port int `yaml:"port"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	object(t, fleetDir, "Service", &svc, "uxprobe-postgres")
	var pvc struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	object(t, fleetDir, "PersistentVolumeClaim", &pvc)
	c := d.container(t, "postgres")
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	u, err := url.Parse(storage.StringData["url"])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"one pod, never two on one data directory", d.Spec.Replicas == 1 && d.Spec.Strategy.Type == "Recreate"},
		{"its data on the PVC", func() bool {
			name := c.mountedVolume("/var/lib/postgresql/data")
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == name && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Metadata.Name {
					return true
				}
			}
			return false
		}()},
		{"the URL's host and port are its Service", u.Hostname() == svc.Metadata.Name && u.Port() == "5432" && len(svc.Spec.Ports) == 1 && svc.Spec.Ports[0].Port == 5432},
		{"the Service selects it", svc.Spec.Selector["app.kubernetes.io/name"] == d.Spec.Template.Metadata.Labels["app.kubernetes.io/name"]},
		{"the URL's user and database are its own", env["POSTGRES_USER"] == u.User.Username() && "/"+env["POSTGRES_DB"] == u.Path},
		{"the agents' password is its password", storage.StringData["password"] != "" && storage.StringData["password"] == pg.StringData["POSTGRES_PASSWORD"]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Error("no")
			}
		})
	}
}
