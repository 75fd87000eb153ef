package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/fleet"
)

// fleetFlags place an agent in a fleet: where it stands and its name.
type fleetFlags struct {
	location string
	name     string
}

func (f *fleetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.location, "location", "",
		"where this agent stands, such as eu-west or office-berlin (lower-case letters, digits and dashes): a field of every result; agents with the same --storage.url and --location split that location's runs, each scheduled run going to one of them; empty is the one location of a fleet that names none")
	fs.StringVar(&f.name, "agent.name", "",
		"this agent's name in its results and the fleet's claims; default the host name")
}

// agentName is --agent.name or the host name.
func (f *fleetFlags) agentName() string {
	if f.name != "" {
		return f.name
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "uxprobe"
}

// openFleet opens the fleet's claims on the history's PostgreSQL database,
// or returns nil without --storage.url (one agent, or --shard). It never
// stops the agent: a database that is down now is used when it is back.
func openFleet(url string, f *fleetFlags, log *slog.Logger) *fleet.Postgres {
	if url == "" {
		return nil
	}
	fl, err := fleet.Open(url, fleet.Options{Agent: f.agentName(), Logger: log})
	if err != nil {
		log.Error("the fleet's claims are off: every slot of every flow runs here", "err", err)
		return nil
	}
	log.Info("splitting the runs of the location with the agents that share the database", "location", f.location, "agent", f.agentName())
	return fl
}

// remoteRunNow serves POST /api/v1/flows/{flow}/run?location=L for another
// location than the agent's: the request is stored in the fleet's database
// and an agent of L runs it. Every other request goes to pages.
func remoteRunNow(pages http.Handler, a *agent.Agent, location, prefix string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/flows/{flow}/run", func(w http.ResponseWriter, r *http.Request) {
		loc := r.URL.Query().Get("location")
		if loc == "" || loc == location {
			pages.ServeHTTP(w, r)
			return
		}
		ids, err := a.RunNowIn(loc, r.PathValue("flow"), r.URL.Query().Get("device"))
		switch {
		case errors.Is(err, agent.ErrUnknownFlow), errors.Is(err, agent.ErrUnknownLocation):
			writeAPIJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case err != nil:
			writeAPIJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		default:
			urls := make([]string, len(ids))
			for i, id := range ids {
				urls[i] = prefix + "/api/v1/runs/" + id
			}
			writeAPIJSON(w, http.StatusAccepted, map[string]any{"ids": ids, "urls": urls, "location": loc})
		}
	})
	mux.Handle("/", pages)
	return mux
}

func writeAPIJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(os.Stderr, err) // the client went away; nothing to tell it
	}
}
