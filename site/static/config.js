// anomalog dashboard settings, read once at start.
// apiBase: where the JSON API lives, without a trailing slash. Empty means the
// same origin that serves these files (what `anomalog up` does). For a site on
// S3/CloudFront against the Lambda API, set e.g. "https://api.example.com".
window.ANOMALOG_CONFIG = {
  apiBase: "",
};
