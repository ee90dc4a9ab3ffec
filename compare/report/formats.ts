/** The report formats and their files (a module of its own: `compare --help` loads it, and nothing heavy). */
export type ReportFormat = 'json' | 'md' | 'html' | 'junit';
export const REPORT_FORMATS: ReportFormat[] = ['json', 'md', 'html', 'junit'];
export const REPORT_FILES: Record<ReportFormat, string> = { json: 'report.json', md: 'report.md', html: 'report.html', junit: 'junit.xml' };
