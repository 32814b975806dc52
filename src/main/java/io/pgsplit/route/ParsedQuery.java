package io.pgsplit.route;

import java.util.List;

/**
 * Everything the classifier learned about one query string; this (never the parser's AST) is what is cached.
 *
 * @param statements          one entry per non-empty statement (one EMPTY entry for an empty query string)
 * @param lexerStatementCount non-empty statements found by {@link SqlLexer}
 * @param maxNestingDepth     deepest parenthesis nesting
 * @param length              length of the query string in chars
 * @param parsed              false when the parser was skipped or failed
 * @param note                why the parser was skipped or failed, or null
 */
public record ParsedQuery(List<StatementInfo> statements, int lexerStatementCount, int maxNestingDepth, int length,
                          boolean parsed, String note) {

    public ParsedQuery {
        statements = List.copyOf(statements);
    }
}
