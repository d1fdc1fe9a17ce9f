"""What every feature uses: the clock, domain errors, jobs after commit, the audit trail,
money in minor units, tenant-scoped lookups, action tokens, the links protocol and health checks."""
