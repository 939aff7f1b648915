import { ParleyError } from '../errors.ts'

export type ContentIssueCode =
  | 'yaml_syntax'
  | 'tab_indent'
  | 'bad_indent'
  | 'unquoted_text'
  | 'unclosed_bracket'
  | 'invalid_key'
  | 'duplicate_key'
  | 'unknown_key'
  | 'invalid_type'
  | 'invalid_value'
  | 'missing_field'
  | 'empty_value'
  | 'duplicate_id'
  | 'unknown_item'
  | 'unknown_flag'
  | 'unknown_var'
  | 'invalid_var'
  | 'var_owner'
  | 'unknown_secret'
  | 'invalid_regex'
  | 'invalid_condition'
  | 'not_text'
  | 'too_large'
  | 'too_complex'
  | 'id_clash'
  | 'unreadable'
  | 'missing_file'
  | 'outside_root'
  | 'not_regular_file'
  | 'unknown_action'

export interface ContentIssue {
  /** The file, as given to the parser. */
  readonly path: string
  /** 1-based. */
  readonly line: number
  /** 1-based, in characters. */
  readonly col: number
  readonly code: ContentIssueCode
  readonly message: string
  /** How to fix it, when we can tell. */
  readonly hint?: string | undefined
}

/** `path:line:col: message (hint)`: one line, the form editors and CI annotate. */
export function formatIssue(issue: ContentIssue): string {
  const hint = issue.hint ? ` (${issue.hint})` : ''
  return `${issue.path}:${issue.line}:${issue.col}: ${issue.message}${hint}`
}

/** The author's file is wrong; `issues` lists every problem found, each with its position. */
export class ContentError extends ParleyError {
  override name = 'ContentError'
  declare readonly code: 'content_invalid'
  readonly issues: readonly ContentIssue[]
  constructor(issues: readonly ContentIssue[]) {
    super('content_invalid', issues.map(formatIssue).join('\n'))
    this.issues = issues
  }
}

export function isContentError(error: unknown): error is ContentError {
  return error instanceof ContentError || (error instanceof Error && error.name === 'ContentError' && 'issues' in error)
}
