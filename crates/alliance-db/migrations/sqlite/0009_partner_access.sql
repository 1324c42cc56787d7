-- Partner data behind the access check: indicator values belong to a dataset by their
-- indicator's name (alliance_core::access::indicator_dataset); names that fit none of the
-- partner domains fall into 'indicators:other', so every value has a dataset to be granted.
INSERT INTO datasets (slug, name, open_data) VALUES
    ('indicators:other', 'Partner indicators: other series', 0);
