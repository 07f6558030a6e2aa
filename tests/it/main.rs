//! One integration target over the real `matelot` binary: a module per noun, each test a
//! specification written with the small builder in `support`.

mod support;

mod app;
mod backup;
mod cli;
mod common_sandbox;
mod config;
mod conformance;
mod guard;
mod host;
mod journal;
mod lab_client;
mod lab_cloudron;
mod lab_up;
mod layout;
mod lock;
mod recovery;
mod restic;
mod sandbox;
mod security;
mod user;
