//! Typed async client for the Cloudron REST API (reqwest): models, errors, task waiting.
