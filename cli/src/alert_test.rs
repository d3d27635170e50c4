//! `anomalog alert test [--channel NAME]`: sends a clearly labelled test
//! message to each configured alert channel (or the named one) and prints,
//! per channel, `OK` or why it failed (the HTTP status and an excerpt of the
//! answer's body, never the webhook URL). Exits non-zero if any failed.

use std::path::Path;

use anyhow::{Context, bail};

use anomalog_alert::{AlertError, Channel, test_channels};

/// Arguments of `anomalog alert`.
#[derive(clap::Args)]
pub struct AlertArgs {
    #[command(subcommand)]
    pub command: AlertCommand,
}

#[derive(clap::Subcommand)]
pub enum AlertCommand {
    /// Send a test message to each configured channel (or only to one).
    Test {
        /// Only this channel: discord, slack or webhook.
        #[arg(long)]
        channel: Option<String>,
    },
}

/// Runs one `anomalog alert` command.
pub async fn run(config_file: Option<&Path>, args: AlertArgs) -> anyhow::Result<()> {
    let config = crate::settings::load_with(config_file, None, None)?;
    let AlertCommand::Test { channel } = args.command;
    let channels = Channel::from_config(&config.alert).context("building the alert channels")?;
    if channels.is_empty() {
        bail!(AlertError::NoChannel);
    }
    let names: Vec<&str> = channels.iter().map(Channel::name).collect();
    if let Some(name) = channel.as_deref()
        && !names.contains(&name)
    {
        bail!(
            "--channel {name}: not configured (configured: {})",
            names.join(", ")
        );
    }
    let checks = test_channels(&channels, channel.as_deref()).await;
    let mut failed = 0;
    for check in &checks {
        match &check.result {
            Ok(status) => println!("{}\tOK ({status})", check.channel),
            Err(reason) => {
                failed += 1;
                println!("{}\tFAILED: {reason}", check.channel);
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} channels failed", checks.len());
    }
    Ok(())
}
