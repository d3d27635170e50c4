// Pushes three lines through winston-loki (Grafana Loki's push API, as a
// Node.js service would), in the encoding given: `protobuf` (snappy-compressed
// logproto.PushRequest, winston-loki's default) or `json`.
//   node winston_loki.js BASE_URL protobuf|json
'use strict';
const winston = require('winston');
const LokiTransport = require('winston-loki');

const [base, encoding] = process.argv.slice(2);
if (!base || !['protobuf', 'json'].includes(encoding)) {
  console.error('usage: node winston_loki.js BASE_URL protobuf|json');
  process.exit(2);
}
let failed = false;
const transport = new LokiTransport({
  host: base,
  labels: { service_name: 'checkout', host: 'web-1' },
  json: encoding === 'json',
  batching: true,
  interval: 0.2,
  format: winston.format.printf(({ message }) => message),
  onConnectionError: (err) => {
    console.error('push failed:', err && err.message ? err.message : err);
    failed = true;
  },
});
const logger = winston.createLogger({ level: 'debug', transports: [transport] });
logger.error('payment failed for order 42', { labels: { region: 'eu' } });
logger.info('order 43 placed');
logger.warn('slow response 2300 ms');
// flush() sends the batch now and resolves once the server answered.
transport
  .flush()
  .then(() => {
    transport.close();
    process.exit(failed ? 1 : 0);
  })
  .catch((err) => {
    console.error('flush failed:', err);
    process.exit(1);
  });
