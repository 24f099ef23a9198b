/**
 * Pure renderers of metric families: Prometheus text format 0.0.4 and OpenMetrics 1.0.0. Label values are
 * made valid UTF-8 (a lone surrogate becomes U+FFFD) and escaped (\\, \", \n) as both formats require;
 * other characters, control characters such as ESC included, pass through as the formats allow, so a
 * label holds exactly the group key `top --by … --json` prints. No timestamps: node_exporter's textfile
 * collector rejects them, and Prometheus stamps a scrape itself.
 */

export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface Family {
  /** For type 'info', the name without "_info" (OpenMetrics adds it to the sample; the text format too). */
  name: string;
  help: string;
  type: 'gauge' | 'info';
  /** OpenMetrics UNIT; the name then ends in _<unit>. */
  unit?: 'bytes' | 'seconds';
  samples: readonly Sample[];
}

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Valid UTF-8 once encoded: lone UTF-16 surrogates (which no UTF-8 can carry) become U+FFFD. */
export const wellFormed = (text: string): string => text.replace(LONE_SURROGATE, '\ufffd');

export const escapeLabelValue = (value: string): string =>
  wellFormed(value).replace(/[\\"\n]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '"' ? '\\"' : '\\n'));

/** HELP text: the text format escapes \\ and newline; OpenMetrics also the double quote. */
const escapeHelp = (help: string, format: ExpositionFormat): string =>
  wellFormed(help).replace(format === 'text' ? /[\\\n]/g : /[\\\n"]/g, (ch) =>
    ch === '\\' ? '\\\\' : ch === '"' ? '\\"' : '\\n',
  );

const formatValue = (value: number): string => {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
};

const formatLabels = (labels: Readonly<Record<string, string>> | undefined): string => {
  if (!labels) return '';
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
};

/** Render families in one format; OpenMetrics ends with "# EOF". */
export const renderExposition = (families: readonly Family[], format: ExpositionFormat): string => {
  const lines: string[] = [];
  for (const family of families) {
    const sampleName = family.type === 'info' ? `${family.name}_info` : family.name;
    const metaName = format === 'openmetrics' ? family.name : sampleName;
    const type = format === 'openmetrics' ? family.type : 'gauge';
    lines.push(`# HELP ${metaName} ${escapeHelp(family.help, format)}`);
    lines.push(`# TYPE ${metaName} ${type}`);
    if (format === 'openmetrics' && family.unit) lines.push(`# UNIT ${metaName} ${family.unit}`);
    for (const sample of family.samples)
      lines.push(`${sampleName}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
  }
  if (format === 'openmetrics') lines.push('# EOF');
  return `${lines.join('\n')}\n`;
};
