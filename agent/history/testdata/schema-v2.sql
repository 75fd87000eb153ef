CREATE TABLE artifacts (
		run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		kind TEXT NOT NULL,
		bytes INTEGER NOT NULL, pos INTEGER NOT NULL DEFAULT 0, data BLOB,
		PRIMARY KEY (run_id, name)
	);
CREATE TABLE runs (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		flow TEXT NOT NULL,
		device TEXT NOT NULL,
		started_ms INTEGER NOT NULL,
		outcome TEXT NOT NULL,
		failing_step TEXT NOT NULL,
		kind TEXT NOT NULL,
		duration_seconds REAL NOT NULL,
		bytes INTEGER NOT NULL,
		result TEXT NOT NULL
	, location TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_flow_device_started ON runs (flow, device, started_ms);
CREATE INDEX runs_location ON runs (flow, device, location, started_ms);
CREATE INDEX runs_outcome ON runs (flow, device, location, outcome, started_ms);
CREATE INDEX runs_started ON runs (started_ms);
