"""One module per family of import kinds: org (units, towns, raters), ledger (check points, problems, bonuses,
institution scores), ratings and responses; base holds the Kind and Upsert classes they share."""
