//! Every way the server closes a websocket, with the contract's codes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// The client said goodbye (legacy `connection_terminate`).
    Terminated,
    ShuttingDown,
    /// Its outgoing buffer stayed full: it can resume by cursor.
    TooSlow,
    /// A message that is not valid JSON of the protocol, or a binary frame.
    Invalid(&'static str),
    /// `subscribe` before `connection_ack`, or the session ended.
    Unauthorized(&'static str),
    /// `connection_init` without a valid token.
    Forbidden,
    /// No `connection_init` within the deadline.
    InitTimeout,
    /// A second operation under an id still running.
    DuplicateId,
    /// A second `connection_init`.
    TooManyInits,
}

impl Close {
    pub fn code(self) -> u16 {
        match self {
            Close::Terminated => 1000,
            Close::ShuttingDown => 1001,
            Close::TooSlow => 1008,
            Close::Invalid(_) => 4400,
            Close::Unauthorized(_) => 4401,
            Close::Forbidden => 4403,
            Close::InitTimeout => 4408,
            Close::DuplicateId => 4409,
            Close::TooManyInits => 4429,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Close::Terminated => "terminated",
            Close::ShuttingDown => "server shutting down",
            Close::TooSlow => "client too slow; resume by cursor",
            Close::Invalid(reason) | Close::Unauthorized(reason) => reason,
            Close::Forbidden => "Forbidden",
            Close::InitTimeout => "Connection initialisation timeout",
            Close::DuplicateId => "Subscriber for this id already exists",
            Close::TooManyInits => "Too many initialisation requests",
        }
    }

    /// Queued messages go out first, except to a client that stopped
    /// reading: its close frame goes ahead of the backlog.
    pub fn flushes(self) -> bool {
        self != Close::TooSlow
    }
}

pub const INVALID_MESSAGE: Close = Close::Invalid("Invalid message received");
