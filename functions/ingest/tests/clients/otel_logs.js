// Exports two log records through the OpenTelemetry JS SDK's OTLP/HTTP log
// exporter, whose default encoding is OTLP JSON (as a Node.js service
// instrumented with OpenTelemetry sends them).
//   node otel_logs.js BASE_URL
'use strict';
const { SeverityNumber } = require('@opentelemetry/api');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const [base] = process.argv.slice(2);
if (!base) {
  console.error('usage: node otel_logs.js BASE_URL');
  process.exit(2);
}
const exporter = new OTLPLogExporter({ url: `${base}/v1/logs` });
// The SDK reports a failed export to its error handler and carries on: this
// wrapper makes a failed export fail the script.
const checked = {
  export(records, done) {
    exporter.export(records, (result) => {
      if (result.code !== 0) {
        console.error('export failed:', result.error && result.error.message);
        process.exitCode = 1;
      }
      done(result);
    });
  },
  forceFlush: () => exporter.forceFlush(),
  shutdown: () => exporter.shutdown(),
};
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'cart', 'host.name': 'node-1' }),
  processors: [new BatchLogRecordProcessor({ exporter: checked })],
});
const logger = provider.getLogger('shop');
logger.emit({
  severityNumber: SeverityNumber.ERROR,
  severityText: 'ERROR',
  body: 'cart 9 failed to save',
  attributes: { 'cart.id': 9, retry: true, ratio: 0.5 },
});
logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'cart 10 saved' });
// shutdown() exports what is batched.
provider.shutdown().then(
  () => process.exit(process.exitCode || 0),
  (err) => {
    console.error('shutdown failed:', err);
    process.exit(1);
  },
);
