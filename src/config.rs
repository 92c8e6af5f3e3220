//! Command line and settings: every setting is a flag and an environment
//! variable, with the defaults of the contract's "Running" section.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "fieldforge", version, about = "FieldForge: a GraphQL API for field-service operations")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) that `schema.graphql` must equal.
    PrintSchema,
    /// Fill an empty database with a small demo company.
    SeedDemo,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://…` (embedded) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://fieldforge.db?mode=rwc", global = true)]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "FIELDFORGE_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// HS256 signing secret, at least 32 bytes. Random per start when unset.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of issued tokens, e.g. `12h`, `30m`.
    #[arg(long, env = "FIELDFORGE_TOKEN_TTL", default_value = "12h", value_parser = humantime::parse_duration, global = true)]
    pub token_ttl: Duration,

    /// PostgreSQL connections for writes, and as many for HTTP reads
    /// (SQLite always uses one).
    #[arg(long, env = "FIELDFORGE_DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub db_pool_size: u32,

    /// Memory for cached query responses, in MiB (0 turns the cache off).
    /// Entries are valid only while the journal's newest id is unchanged.
    #[arg(long, env = "FIELDFORGE_RESPONSE_CACHE_MB", default_value_t = 16, global = true)]
    pub response_cache_mb: usize,

    /// Longest a GraphQL request over HTTP may run; past it the request is
    /// answered with an error and what it started is rolled back.
    #[arg(long, env = "FIELDFORGE_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub request_timeout: Duration,

    /// PostgreSQL `statement_timeout` of the server's connections (0 turns it off).
    #[arg(long, env = "FIELDFORGE_STATEMENT_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration, global = true)]
    pub statement_timeout: Duration,

    /// How long in-flight requests may finish after SIGTERM/SIGINT.
    #[arg(long, env = "FIELDFORGE_SHUTDOWN_GRACE", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_grace: Duration,

    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR
    /// ranges, comma-separated). Other peers are the client themselves.
    #[arg(long, env = "FIELDFORGE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Serve GraphiQL on `/graphiql`.
    #[arg(long, env = "FIELDFORGE_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub graphiql: bool,

    /// Answer introspection queries (schema tools, GraphiQL's docs).
    #[arg(long, env = "FIELDFORGE_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,

    /// When set, `/metrics` requires `Authorization: Bearer <this token>`.
    #[arg(long, env = "FIELDFORGE_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub webhooks: WebhookSettings,
}

/// Outbound webhooks (RULES.md, "Webhooks").
#[derive(Debug, Clone, Args)]
pub struct WebhookSettings {
    /// Allow webhook targets on loopback, private, link-local and other
    /// non-public addresses (for tests and closed networks).
    #[arg(long = "webhook-allow-private", env = "FIELDFORGE_WEBHOOK_ALLOW_PRIVATE", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub allow_private: bool,
    /// First retry delay after a failed attempt; it doubles per attempt
    /// (with up to 10 % jitter), capped at one hour.
    #[arg(long = "webhook-retry-base", env = "FIELDFORGE_WEBHOOK_RETRY_BASE", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub retry_base: Duration,
    /// Attempts in flight at once in this process (all webhooks together).
    #[arg(long = "webhook-concurrency", env = "FIELDFORGE_WEBHOOK_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024), global = true)]
    pub concurrency: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings { allow_private: false, retry_base: Duration::from_secs(10), concurrency: 16 }
    }
}

/// Caps on what one request may ask for; checked before anything runs.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Maximum query depth (GraphiQL's introspection query needs 13).
    #[arg(long, env = "FIELDFORGE_MAX_DEPTH", default_value_t = 16, global = true)]
    pub max_depth: usize,
    /// Maximum cost of an operation: what its answer can hold at most
    /// (RULES.md, "Cost"; `first` and list bounds multiply).
    #[arg(long, env = "FIELDFORGE_MAX_COST", default_value_t = 25_000, global = true)]
    pub max_cost: u64,
    /// Maximum number of aliased fields in one operation.
    #[arg(long, env = "FIELDFORGE_MAX_ALIASES", default_value_t = 30, global = true)]
    pub max_aliases: usize,
    /// Maximum number of operations in one batched request.
    #[arg(long, env = "FIELDFORGE_MAX_BATCH", default_value_t = 10, global = true)]
    pub max_batch: usize,
    /// Largest serialised answer, in bytes; a bigger one is refused.
    #[arg(long, env = "FIELDFORGE_MAX_RESPONSE_BYTES", default_value_t = 16 << 20, global = true)]
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 16, max_cost: 25_000, max_aliases: 30, max_batch: 10, max_response_bytes: 16 << 20 }
    }
}

impl Settings {
    /// Settings for tests and tools: the defaults with the given database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Settings {
            database_url: database_url.into(),
            listen: ([127, 0, 0, 1], 0).into(),
            jwt_secret: None,
            token_ttl: Duration::from_secs(12 * 3600),
            db_pool_size: 8,
            response_cache_mb: 16,
            request_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(20),
            shutdown_grace: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
            graphiql: true,
            introspection: true,
            metrics_token: None,
            limits: Limits::default(),
            webhooks: WebhookSettings::default(),
        }
    }
}

/// An address (`10.0.0.1`, `::1`) or a CIDR range (`10.0.0.0/8`).
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{text}` is neither an IP address nor a CIDR range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_settings_read_flags_and_environment_spellings() {
        let cli =
            Cli::try_parse_from(["fieldforge", "--webhook-allow-private", "--webhook-retry-base", "500ms"]).unwrap();
        assert!(cli.settings.webhooks.allow_private);
        assert_eq!(cli.settings.webhooks.retry_base, Duration::from_millis(500));
        let cli = Cli::try_parse_from(["fieldforge"]).unwrap();
        assert!(!cli.settings.webhooks.allow_private);
        assert_eq!(cli.settings.webhooks.retry_base, Duration::from_secs(10));
    }

    #[test]
    fn proxies_are_addresses_or_ranges() {
        assert_eq!(parse_network("10.0.0.1").unwrap().to_string(), "10.0.0.1/32");
        assert_eq!(parse_network(" 10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        assert!(parse_network("proxy.local").is_err());
    }
}
