//! Syslog listeners (placeholder, filled in below).
