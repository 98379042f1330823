"""Inbound sync (Intacct -> Assignar): records read from Intacct (`normalize`), written as Assignar payloads
(`payloads`), by a pull and an upsert that reach both services through small ports (`ports`)."""
