-- One current import per unit, enforced by the database (issue 13, findings 4 and 5).
--
-- Before this, two imports of the same unit running at once could both find "no current import"
-- and both stay current, storing their rows twice. The imports themselves now read the unit's
-- current import inside their write transaction (under a lock per unit); this index makes a
-- second current import of a unit impossible whatever the code does.
--
-- (Kept identical in the sqlite and postgres folders.)

-- 1. Partner indicator imports are replaced only within the uploading organisation's own
--    imports: their unit names the organisation. Earlier web and API uploads are moved to it
--    (the importer is `user:<email>` or `token:<id> (<organisation>)`); command-line imports
--    keep the plain `indicators/<file>` unit.
UPDATE imports SET unit = 'indicators/org/' || (SELECT u.org_id FROM users u WHERE 'user:' || u.email = imports.imported_by)
                          || '/' || substr(unit, 12)
WHERE source = 'indicators' AND unit LIKE 'indicators/%'
  AND EXISTS (SELECT 1 FROM users u WHERE 'user:' || u.email = imports.imported_by);
UPDATE imports SET unit = 'indicators/org/' || (SELECT t.org_id FROM api_tokens t WHERE imports.imported_by LIKE 'token:' || t.id || ' (%')
                          || '/' || substr(unit, 12)
WHERE source = 'indicators' AND unit LIKE 'indicators/%' AND unit NOT LIKE 'indicators/org/%'
  AND EXISTS (SELECT 1 FROM api_tokens t WHERE imports.imported_by LIKE 'token:' || t.id || ' (%');

-- 2. Units that concurrent imports left with more than one current import: the latest stays
--    current, the others become superseded by it, and their rows (a second copy) go.
UPDATE imports SET superseded_by = (SELECT MAX(l.id) FROM imports l WHERE l.unit = imports.unit AND l.superseded_by IS NULL)
WHERE superseded_by IS NULL
  AND id < (SELECT MAX(l.id) FROM imports l WHERE l.unit = imports.unit AND l.superseded_by IS NULL);
DELETE FROM police_crimes WHERE import_id IN (SELECT id FROM imports WHERE superseded_by IS NOT NULL);
DELETE FROM police_outcomes WHERE import_id IN (SELECT id FROM imports WHERE superseded_by IS NOT NULL);
DELETE FROM ed_assaults WHERE import_id IN (SELECT id FROM imports WHERE superseded_by IS NOT NULL);
DELETE FROM partner_indicator_values WHERE import_id IN (SELECT id FROM imports WHERE superseded_by IS NOT NULL);

-- 3. At most one current (not superseded) import per unit. While a new import is being written,
--    the import it replaces is marked as superseded by itself, then by the new one (see
--    alliance-db/src/imports.rs), so the index holds at every statement.
CREATE UNIQUE INDEX imports_one_current ON imports (unit) WHERE superseded_by IS NULL;
