-- A referral form or API request sent twice (a double click, a client's retry after a
-- timeout) made two referrals: the receiving service saw the person twice and the figures
-- counted them twice. A submission now carries a key (the web form's hidden one-time key, or
-- the API's Idempotency-Key header), namespaced by the referring organisation, and the key is
-- unique: the database, not the timing of two requests, decides that one referral is made.
-- Referrals made before have none (NULLs are never equal, so they do not collide).
ALTER TABLE referrals ADD COLUMN submission_key TEXT;
CREATE UNIQUE INDEX referrals_submission_key ON referrals (submission_key);
