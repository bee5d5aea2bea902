//! One function per subcommand, grouped as the help lists them: uploading, accounts,
//! repositories, watched folders. Each prints its own result and returns the exit status; errors go back to
//! `main`, which reports them.

pub mod accounts;
pub mod repos;
pub mod upload;
pub mod watch;
