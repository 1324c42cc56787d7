-- The charter's three commitments that 0008 seeded into every database are the Staffordshire
-- and Stoke-on-Trent Safer Places for Women & Girls Charter's: another partnership's charter
-- page listed them as its own. They now come with the partnership's profile (the shipped
-- Staffordshire profile names them, so `serve --demo` and `partnership init --example
-- staffordshire` bring them), and this removes the seeded rows where nobody made them theirs.
-- A seeded row goes only when all of these hold:
-- * its position, title and description are still as seeded (an edited one was chosen);
-- * no organisation has pledged to it (a pledge keeps what it was made to);
-- * the stored profile is not Staffordshire's (its forces name "staffordshire"): a live
--   Staffordshire deployment keeps them;
-- * a profile is stored, or no user is: a database with users but no profile predates
--   profiles (0021), when Alliance served only Staffordshire, so it keeps them; one with
--   neither (a new database, as now, or one nobody has set up) loses them, and its set-up or
--   `partnership init` brings its own profile's commitments.
-- The same statement on both backends (0043_… in each folder).
DELETE FROM charter_commitments
WHERE (
        (position = 1 AND title = 'A safer environment'
            AND description = 'Creating a safer environment to reduce the risk of crime.')
     OR (position = 2 AND title = 'Staff who can identify and respond to vulnerability'
            AND description = 'Developing staff''s understanding, skills and confidence to identify and respond to vulnerability.')
     OR (position = 3 AND title = 'A way to report unacceptable behaviour'
            AND description = 'Providing a mechanism which enables staff, and the public, to report unacceptable behaviour while at work or using the organisation''s services.')
    )
  AND NOT EXISTS (SELECT 1 FROM charter_pledges p WHERE p.commitment_id = charter_commitments.id)
  AND NOT EXISTS (SELECT 1 FROM partnership WHERE profile LIKE '%"staffordshire"%')
  AND (EXISTS (SELECT 1 FROM partnership) OR NOT EXISTS (SELECT 1 FROM users));
