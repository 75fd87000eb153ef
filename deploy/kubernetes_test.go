package deploy_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/uxprobe/uxprobe/scenarios"
)

// manifest is one Kubernetes object of the files under kubernetes/.
type manifest struct {
	File string
	Node *yaml.Node
	Meta struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
}

// The set-ups under kubernetes/: the fleet (the directory itself) and the
// StatefulSet without PostgreSQL.
var (
	fleetDir   = kubernetesDir
	shardedDir = filepath.Join(kubernetesDir, "sharded")
)

// manifests returns every object of every YAML file under kubernetes/,
// kustomizations included.
func manifests(t *testing.T) []manifest {
	t.Helper()
	var ms []manifest
	err := filepath.WalkDir(kubernetesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
			return err
		}
		ms = append(ms, fileManifests(t, path)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func fileManifests(t *testing.T, path string) []manifest {
	t.Helper()
	var ms []manifest
	for _, n := range yamlDocuments(t, path) {
		m := manifest{File: path, Node: n}
		if err := n.Decode(&m.Meta); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ms = append(ms, m)
	}
	return ms
}

// kustomization is the part of a kustomization.yaml that the tests read.
type kustomization struct {
	Resources  []string `yaml:"resources"`
	NameSuffix string   `yaml:"nameSuffix"`
	Labels     []struct {
		Pairs            map[string]string `yaml:"pairs"`
		IncludeSelectors bool              `yaml:"includeSelectors"`
	} `yaml:"labels"`
	ConfigMapGenerator []struct {
		Name     string   `yaml:"name"`
		Literals []string `yaml:"literals"`
	} `yaml:"configMapGenerator"`
	Patches []struct {
		Target struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"target"`
		Patch string `yaml:"patch"`
	} `yaml:"patches"`
}

func readKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	var k kustomization
	ms := fileManifests(t, filepath.Join(dir, "kustomization.yaml"))
	if len(ms) != 1 || ms[0].Meta.Kind != "Kustomization" {
		t.Fatalf("%s/kustomization.yaml is not one Kustomization", dir)
	}
	if err := ms[0].Node.Decode(&k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

// setup returns the objects a kustomization directory installs, following
// its resources into the directories it names, as `kubectl kustomize`
// would, without the transformations (names, labels, patches): kubectl is
// not at hand in the tests, so the overlays' own fields are checked apart.
func setup(t *testing.T, dir string) []manifest {
	t.Helper()
	var ms []manifest
	for _, r := range readKustomization(t, dir).Resources {
		path := filepath.Join(dir, r)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("%s/kustomization.yaml: resource %s: %v", dir, r, err)
		}
		if fi.IsDir() {
			ms = append(ms, setup(t, path)...)
		} else {
			ms = append(ms, fileManifests(t, path)...)
		}
	}
	return ms
}

// object decodes the one object of the given kind (and name, when given)
// that the set-up in dir installs into v.
func object(t *testing.T, dir, kind string, v any, name ...string) manifest {
	t.Helper()
	var found []manifest
	for _, m := range setup(t, dir) {
		if m.Meta.Kind == kind && (len(name) == 0 || m.Meta.Metadata.Name == name[0]) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s installs %d objects of kind %s %v, want 1", dir, len(found), kind, name)
	}
	if err := found[0].Node.Decode(v); err != nil {
		t.Fatalf("%s: %v", found[0].File, err)
	}
	return found[0]
}

func TestManifestsHaveRequiredFields(t *testing.T) {
	for _, m := range manifests(t) {
		t.Run(fmt.Sprintf("%s %s", m.File, m.Meta.Kind), func(t *testing.T) {
			if m.Meta.APIVersion == "" || m.Meta.Kind == "" {
				t.Errorf("apiVersion %q, kind %q: both are required", m.Meta.APIVersion, m.Meta.Kind)
			}
			if m.Meta.Kind != "Kustomization" && m.Meta.Metadata.Name == "" {
				t.Errorf("%s without metadata.name", m.Meta.Kind)
			}
		})
	}
}

// TestKustomizationsListManifests: every kustomization's resources exist,
// and every manifest beside it is one of them (a file nobody lists is
// never applied).
func TestKustomizationsListManifests(t *testing.T) {
	var dirs []string
	err := filepath.WalkDir(kubernetesDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			k := readKustomization(t, dir)
			for _, r := range k.Resources {
				path := filepath.Join(dir, r)
				fi, err := os.Stat(path)
				if err != nil {
					t.Errorf("resource %s: %v", r, err)
					continue
				}
				if fi.IsDir() {
					if _, err := os.Stat(filepath.Join(path, "kustomization.yaml")); err != nil {
						t.Errorf("resource %s is a directory without kustomization.yaml", r)
					}
				} else if strings.HasPrefix(r, "..") {
					// kustomize loads no file outside its root.
					t.Errorf("resource %s is a file outside %s: list its directory's kustomization instead", r, dir)
				}
			}
			for _, f := range yamlFilesIfAny(t, dir) {
				if b := filepath.Base(f); b != "kustomization.yaml" && !slices.Contains(k.Resources, b) {
					t.Errorf("%s is not in %s/kustomization.yaml's resources", b, dir)
				}
			}
		})
	}
}

func yamlFilesIfAny(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// Kubernetes objects, as far as the tests read them.
type (
	statefulSet struct {
		Spec struct {
			Replicas            int    `yaml:"replicas"`
			ServiceName         string `yaml:"serviceName"`
			PodManagementPolicy string `yaml:"podManagementPolicy"`
			Selector            struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template struct {
				Metadata struct {
					Labels map[string]string `yaml:"labels"`
				} `yaml:"metadata"`
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
			VolumeClaimTemplates []struct {
				Metadata struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			} `yaml:"volumeClaimTemplates"`
		} `yaml:"spec"`
	}
	podSpec struct {
		SecurityContext securityContext `yaml:"securityContext"`
		Containers      []container     `yaml:"containers"`
		Volumes         []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name string `yaml:"name"`
			} `yaml:"configMap"`
			EmptyDir *struct {
				Medium    string `yaml:"medium"`
				SizeLimit string `yaml:"sizeLimit"`
			} `yaml:"emptyDir"`
		} `yaml:"volumes"`
	}
	securityContext struct {
		RunAsNonRoot           *bool `yaml:"runAsNonRoot"`
		RunAsUser              *int  `yaml:"runAsUser"`
		ReadOnlyRootFilesystem *bool `yaml:"readOnlyRootFilesystem"`
	}
	container struct {
		Name string   `yaml:"name"`
		Args []string `yaml:"args"`
		Env  []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				FieldRef *struct {
					FieldPath string `yaml:"fieldPath"`
				} `yaml:"fieldRef"`
				SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
				ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext securityContext `yaml:"securityContext"`
		VolumeMounts    []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
	}
)

// agent returns the uxprobe container of the StatefulSet.
func agent(t *testing.T, s *statefulSet) *container {
	t.Helper()
	for i, c := range s.Spec.Template.Spec.Containers {
		if c.Name == "uxprobe" {
			return &s.Spec.Template.Spec.Containers[i]
		}
	}
	t.Fatal("the StatefulSet has no container named uxprobe")
	return nil
}

// mountedVolume returns the name of the volume mounted at path, or "".
func (c *container) mountedVolume(path string) string {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m.Name
		}
	}
	return ""
}

// port resolves a probe's port, by number or name, to a number.
func (c *container) port(p any) int {
	switch p := p.(type) {
	case int:
		return p
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

func TestStatefulSet(t *testing.T) {
	var s statefulSet
	object(t, shardedDir, "StatefulSet", &s)
	var cm struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	object(t, shardedDir, "ConfigMap", &cm)
	var svc struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			ClusterIP string            `yaml:"clusterIP"`
			Selector  map[string]string `yaml:"selector"`
			Ports     []struct {
				Name string `yaml:"name"`
				Port int    `yaml:"port"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	object(t, shardedDir, "Service", &svc)
	c := agent(t, &s)
	pod := s.Spec.Template.Spec

	emptyDir := func(volume string) (medium, size string, ok bool) {
		for _, v := range pod.Volumes {
			if v.Name == volume && v.EmptyDir != nil {
				return v.EmptyDir.Medium, v.EmptyDir.SizeLimit, true
			}
		}
		return "", "", false
	}
	isTrue := func(b ...*bool) bool {
		for _, x := range b {
			if x != nil {
				return *x
			}
		}
		return false
	}

	tests := []struct {
		name  string
		check func() error
	}{
		{"probes", func() error {
			for _, p := range []struct {
				name  string
				probe *probe
				path  string
			}{{"liveness", c.LivenessProbe, "/-/healthy"}, {"readiness", c.ReadinessProbe, "/-/ready"}} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					return fmt.Errorf("no HTTP %s probe", p.name)
				}
				if p.probe.HTTPGet.Path != p.path || c.port(p.probe.HTTPGet.Port) != 9747 {
					return fmt.Errorf("%s probe gets %s on port %v, want %s on 9747",
						p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port, p.path)
				}
			}
			return nil
		}},
		{"metrics port", func() error {
			for _, p := range c.Ports {
				if p.ContainerPort == 9747 && p.Name == "metrics" {
					return nil
				}
			}
			return fmt.Errorf("no container port 9747 named metrics: %+v", c.Ports)
		}},
		{"non-root", func() error {
			if !isTrue(c.SecurityContext.RunAsNonRoot, pod.SecurityContext.RunAsNonRoot) {
				return fmt.Errorf("runAsNonRoot is not true")
			}
			uid := c.SecurityContext.RunAsUser
			if uid == nil {
				uid = pod.SecurityContext.RunAsUser
			}
			if uid == nil || *uid != 10001 {
				return fmt.Errorf("runAsUser is not the image's user 10001")
			}
			return nil
		}},
		{"read-only root with a writable /tmp", func() error {
			if !isTrue(c.SecurityContext.ReadOnlyRootFilesystem) {
				return fmt.Errorf("readOnlyRootFilesystem is not true")
			}
			if _, _, ok := emptyDir(c.mountedVolume("/tmp")); !ok {
				return fmt.Errorf("/tmp is not an emptyDir")
			}
			return nil
		}},
		{"/dev/shm in memory", func() error {
			medium, size, ok := emptyDir(c.mountedVolume("/dev/shm"))
			if !ok || medium != "Memory" || size == "" {
				return fmt.Errorf("/dev/shm is not an emptyDir with medium Memory and a sizeLimit")
			}
			return nil
		}},
		{"run history on a volume of each replica's own", func() error {
			var path string
			for _, a := range c.Args {
				if p, ok := strings.CutPrefix(a, "--storage.path="); ok {
					path = p
				}
			}
			if path == "" {
				return fmt.Errorf("args %q have no --storage.path=: the default under the read-only root cannot be written", c.Args)
			}
			name := c.mountedVolume(path)
			for _, v := range s.Spec.VolumeClaimTemplates {
				if name != "" && v.Metadata.Name == name {
					return nil
				}
			}
			return fmt.Errorf("--storage.path %s is not a mount of a volumeClaimTemplate", path)
		}},
		{"flows from the ConfigMap", func() error {
			name := c.mountedVolume("/etc/uxprobe/flows")
			for _, v := range pod.Volumes {
				if v.Name == name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name {
					if !slices.Contains(c.Args, "/etc/uxprobe/flows") {
						return fmt.Errorf("args %q do not name /etc/uxprobe/flows", c.Args)
					}
					return nil
				}
			}
			return fmt.Errorf("/etc/uxprobe/flows is not the ConfigMap %s", cm.Metadata.Name)
		}},
		{"shard per replica", func() error {
			if len(c.Args) == 0 || c.Args[0] != "run" {
				return fmt.Errorf("args %q do not start with run", c.Args)
			}
			if !slices.Contains(argsFlags(c.Args), "shard") {
				return fmt.Errorf("args %q have no --shard=", c.Args)
			}
			want := "--shard=$(SHARD)/" + strconv.Itoa(s.Spec.Replicas)
			if !slices.Contains(c.Args, want) {
				return fmt.Errorf("args %q lack %s: the shard count must equal replicas", c.Args, want)
			}
			for _, e := range c.Env {
				if e.Name == "SHARD" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
					e.ValueFrom.FieldRef.FieldPath == "metadata.labels['apps.kubernetes.io/pod-index']" {
					return nil
				}
			}
			return fmt.Errorf("no env SHARD from the pod-index label")
		}},
		{"parallel pods", func() error {
			if s.Spec.PodManagementPolicy != "Parallel" {
				return fmt.Errorf("podManagementPolicy %q, want Parallel", s.Spec.PodManagementPolicy)
			}
			return nil
		}},
		{"memory for Chrome", func() error {
			if c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" || c.Resources.Requests["cpu"] == "" {
				return fmt.Errorf("resources %+v lack a memory request and limit or a CPU request", c.Resources)
			}
			return nil
		}},
		{"reloader posts /-/reload", func() error {
			for _, sc := range pod.Containers {
				if slices.Contains(sc.Args, "--webhook-url=http://127.0.0.1:9747/-/reload") {
					return nil
				}
			}
			return fmt.Errorf("no sidecar with --webhook-url=http://127.0.0.1:9747/-/reload")
		}},
		{"headless service", func() error {
			if svc.Metadata.Name != s.Spec.ServiceName || svc.Spec.ClusterIP != "None" {
				return fmt.Errorf("serviceName %q, Service %q with clusterIP %q: want the StatefulSet's headless Service",
					s.Spec.ServiceName, svc.Metadata.Name, svc.Spec.ClusterIP)
			}
			for k, v := range svc.Spec.Selector {
				if s.Spec.Template.Metadata.Labels[k] != v {
					return fmt.Errorf("the Service selects %s=%s, which the pods lack", k, v)
				}
			}
			for k, v := range s.Spec.Selector.MatchLabels {
				if s.Spec.Template.Metadata.Labels[k] != v {
					return fmt.Errorf("the StatefulSet selects %s=%s, which its pods lack", k, v)
				}
			}
			for _, p := range svc.Spec.Ports {
				if p.Name == "metrics" && p.Port == 9747 {
					return nil
				}
			}
			return fmt.Errorf("the Service has no port 9747 named metrics")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// configMapFlows returns the flow files of the flows ConfigMap by key.
func configMapFlows(t *testing.T) map[string]string {
	t.Helper()
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	object(t, fleetDir, "ConfigMap", &cm)
	if len(cm.Data) == 0 {
		t.Fatal("the ConfigMap holds no flows")
	}
	return cm.Data
}

func TestConfigMapFlowsAreValid(t *testing.T) {
	for key, flow := range configMapFlows(t) {
		t.Run(key, func(t *testing.T) {
			if !strings.HasSuffix(key, ".yaml") && !strings.HasSuffix(key, ".yml") {
				t.Errorf("key %q: uxprobe loads only *.yaml and *.yml files", key)
			}
			flows, err := scenarios.Parse(key, []byte(flow), scenarios.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(flows) == 0 {
				t.Error("no flow in it")
			}
		})
	}
}
