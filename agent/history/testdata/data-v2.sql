-- Runs as schema version 2 stored them (uxprobe as of issue 17): a fleet's
-- locations and agents; artifacts in the database (data; NULL here, as for
-- a file that was gone when a version 1 store moved its files in, since
-- SQLite and PostgreSQL spell blob literals differently).
INSERT INTO runs (id, flow, device, location, agent, started_ms, outcome, failing_step, kind, duration_seconds, bytes, result) VALUES
('20261201T120000Z-0123456789ab', 'checkout', 'mobile', 'eu', 'agent-a', 1764590400000, 'failure', 'place order', 'navigation', 1.92, 600,
 '{"id":"20261201T120000Z-0123456789ab","flow":"checkout","device":"mobile","device_class":"mobile","location":"eu","agent":"agent-a","started_at":"2026-12-01T12:00:00Z","success":false,"attempts":1,"duration_seconds":1.92,"steps":[{"name":"place order","action":"click","duration_seconds":0.11,"success":false,"skipped":false,"error":"POST http://127.0.0.1:8080/checkout returned HTTP 500"}],"pages":[],"error":{"step":"place order","kind":"navigation","message":"POST http://127.0.0.1:8080/checkout returned HTTP 500"},"console_errors":[],"failed_requests":[{"url":"http://127.0.0.1:8080/checkout","status":500}],"screenshots":["artifacts/checkout/mobile/failure-place_order.png"]}'),
('20261201T120500Z-ba9876543210', 'checkout', 'desktop', 'us', 'agent-b', 1764590700000, 'success', '', '', 1.2, 400,
 '{"id":"20261201T120500Z-ba9876543210","flow":"checkout","device":"desktop","device_class":"desktop","location":"us","agent":"agent-b","started_at":"2026-12-01T12:05:00Z","success":true,"attempts":1,"duration_seconds":1.2,"steps":[{"name":"open","action":"goto","duration_seconds":0.3,"success":true,"skipped":false}],"pages":[],"console_errors":[],"failed_requests":[],"screenshots":[]}');
INSERT INTO artifacts (run_id, name, kind, bytes, pos) VALUES ('20261201T120000Z-0123456789ab', 'failure-place_order.png', 'screenshot', 3, 1);
