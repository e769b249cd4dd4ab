"""Write-back: open findings → a plan of label and comment writes → Jira, with a ledger.

``plan`` decides what each issue should carry (pure), ``comments`` words the
comments, ``apply`` performs a plan through the Jira client and records every
write in the ledger. ``writeback.from_store.apply_from_store`` ties them to a store.
"""
