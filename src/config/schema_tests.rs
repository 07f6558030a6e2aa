//! Table-driven tests of the schema: each case is a file and the exact problems it yields.

use super::*;
