//! Prints the OpenAPI document (`cargo run -p anomalog-api --example openapi`).

fn main() {
    match serde_json::to_string_pretty(&anomalog_api::openapi_document()) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("cannot serialize the document: {e}"),
    }
}
