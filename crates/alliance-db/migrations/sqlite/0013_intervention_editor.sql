-- Who last changed an intervention. Until now an edit kept only its time; the register must say
-- who changed a funded intervention's place, dates or evidence rating, as it says who added it.
-- Existing rows were last changed (as far as the database knows) by whoever added them.
ALTER TABLE interventions ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
UPDATE interventions SET updated_by = created_by;
