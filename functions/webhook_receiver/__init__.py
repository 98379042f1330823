"""Lambda entry points: thin handlers over the shared intacct_assignar package."""
