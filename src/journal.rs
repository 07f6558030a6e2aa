//! The operations journal: one SQLite row per operation, written before a change and completed
//! after it, so a crash leaves evidence and every change says how to undo it.
