"""Store schema revisions, one file each, never edited once released."""
