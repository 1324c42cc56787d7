-- Governance on the web: the Delivery Group marks an action for escalation to the Board
-- from the action plan (not only as a meeting item). One row per marking, kept; the Board
-- pack of the quarter holding `raised_on` lists it. The marking is also written to
-- action_history (field 'escalated') so every change to an action stays in one place.

CREATE TABLE action_escalations (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    raised_on TEXT NOT NULL,           -- YYYY-MM-DD
    note TEXT NOT NULL,
    by_user TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX action_escalations_action ON action_escalations (action_id);
