package io.pgsplit.route;

import java.util.ArrayList;
import java.util.List;

/**
 * Tokenizes PostgreSQL SQL following PostgreSQL's own lexical rules (scan.l), and splits it into statements.
 *
 * <p>Why our own lexer: JSqlParser lexes strings differently from PostgreSQL (e.g. it treats {@code E'\''} as an
 * unterminated or different string), so the statement boundaries and keywords that decide routing must come from
 * rules that match the server's. Handled: {@code '...'} with {@code ''}; {@code E'...'} with backslash escapes;
 * {@code U&'...'}, {@code B'...'}, {@code X'...'}, {@code N'...'}; {@code "quoted identifiers"} with {@code ""};
 * dollar quoting {@code $tag$...$tag$} (while {@code $1} is a parameter); {@code --} and nested {@code /* *}{@code /}
 * comments; and, when standard_conforming_strings is off, backslash escapes in plain strings too.
 *
 * <p>Statements split at {@code ;} outside parentheses, like psql does, and not inside the body of
 * {@code CREATE FUNCTION/PROCEDURE ... BEGIN ATOMIC ... END}.
 */
public final class SqlLexer {

    public enum TokenType { WORD, QUOTED_IDENT, STRING, NUMBER, PARAM, OPERATOR, LPAREN, RPAREN, LBRACKET, RBRACKET, COMMA, DOT, SEMICOLON }

    /** How a string constant was written: it matters to the JSqlParser hand-off, which only understands STANDARD. */
    public enum StringStyle { STANDARD, ESCAPE, UNICODE, DOLLAR, BIT }

    /**
     * One token. {@code value}: for WORD the upper-cased word; for QUOTED_IDENT the identifier without quotes; for
     * STRING the string's value with escapes resolved (approximately for U&amp; strings); else the raw text.
     */
    public record Token(TokenType type, int start, int end, String value, StringStyle style) {
        public boolean isWord(String upper) {
            return type == TokenType.WORD && value.equals(upper);
        }
    }

    /**
     * @param statements non-empty statements in order
     * @param maxDepth   the deepest parenthesis nesting
     * @param error      non-null when the text is not lexically valid (unterminated string, comment, identifier)
     */
    public record Result(String sql, List<LexedStatement> statements, int maxDepth, String error) {
        public int statementCount() {
            return statements.size();
        }

        public boolean ok() {
            return error == null;
        }
    }

    private SqlLexer() {}

    /** Lexes with standard_conforming_strings on (the default since PostgreSQL 9.1). */
    public static Result lex(String sql) {
        return lex(sql, true);
    }

    public static Result lex(String sql, boolean standardConformingStrings) {
        return new Scanner(sql, standardConformingStrings).run();
    }

    private static final class Scanner {
        private final String s;
        private final int n;
        private final boolean scs;
        private int pos;
        private String error;

        private final List<LexedStatement> statements = new ArrayList<>();
        private List<Token> current = new ArrayList<>();
        private int depth;
        private int statementMaxDepth;
        private int maxDepth;
        // CREATE FUNCTION ... BEGIN ATOMIC ... END: semicolons inside do not end the statement (as in psql)
        private boolean routineDefinition;
        private int blockDepth;

        Scanner(String s, boolean scs) {
            this.s = s;
            this.n = s.length();
            this.scs = scs;
        }

        Result run() {
            while (pos < n && error == null) {
                char c = s.charAt(pos);
                if (isSpace(c)) {
                    pos++;
                } else if (c == '-' && peek(1) == '-') {
                    while (pos < n && s.charAt(pos) != '\n' && s.charAt(pos) != '\r') pos++;
                } else if (c == '/' && peek(1) == '*') {
                    blockComment();
                } else if (c == '\'') {
                    quoted(pos, pos, !scs, StringStyle.STANDARD);
                } else if (c == '"') {
                    quotedIdentifier(pos, pos);
                } else if (c == '$') {
                    dollar();
                } else if (isIdentStart(c)) {
                    word();
                } else if (isDigit(c) || (c == '.' && isDigit(peek(1)))) {
                    number();
                } else {
                    punctuation(c);
                }
            }
            endStatement();
            return new Result(s, List.copyOf(statements), maxDepth, error);
        }

        private char peek(int ahead) {
            int p = pos + ahead;
            return p < n ? s.charAt(p) : '\0';
        }

        private void add(TokenType type, int start, int end, String value, StringStyle style) {
            current.add(new Token(type, start, end, value, style));
        }

        private void blockComment() {
            int start = pos;
            int nesting = 0;
            while (pos < n) {
                if (s.charAt(pos) == '/' && peek(1) == '*') {
                    nesting++;
                    pos += 2;
                } else if (s.charAt(pos) == '*' && peek(1) == '/') {
                    nesting--;
                    pos += 2;
                    if (nesting == 0) return;
                } else {
                    pos++;
                }
            }
            error = "unterminated /* comment at offset " + start;
        }

        /**
         * A single-quoted string whose opening quote is at {@code quotePos} (the token starts at {@code tokenStart},
         * which is before the quote for prefixed forms like E'...'). {@code ''} is always a quote; with
         * {@code backslashEscapes} a backslash escapes the next character.
         */
        private void quoted(int tokenStart, int quotePos, boolean backslashEscapes, StringStyle style) {
            StringBuilder value = new StringBuilder();
            pos = quotePos + 1;
            while (pos < n) {
                char c = s.charAt(pos);
                if (c == '\'') {
                    if (peek(1) == '\'') {
                        value.append('\'');
                        pos += 2;
                        continue;
                    }
                    pos++;
                    add(TokenType.STRING, tokenStart, pos, value.toString(), style);
                    return;
                }
                if (c == '\\' && backslashEscapes) {
                    if (pos + 1 >= n) break;
                    pos = unescape(pos, value);
                    continue;
                }
                value.append(c);
                pos++;
            }
            error = "unterminated quoted string at offset " + tokenStart;
        }

        /** Resolves the backslash escape at {@code p} (as in E'...'), appends the character, returns the next position. */
        private int unescape(int p, StringBuilder out) {
            char e = s.charAt(p + 1);
            switch (e) {
                case 'b': out.append('\b'); return p + 2;
                case 'f': out.append('\f'); return p + 2;
                case 'n': out.append('\n'); return p + 2;
                case 'r': out.append('\r'); return p + 2;
                case 't': out.append('\t'); return p + 2;
                case 'x': {
                    int q = p + 2, v = 0, digits = 0;
                    while (q < n && digits < 2 && Character.digit(s.charAt(q), 16) >= 0) {
                        v = v * 16 + Character.digit(s.charAt(q++), 16);
                        digits++;
                    }
                    if (digits == 0) { out.append('x'); return p + 2; }
                    out.append((char) v);
                    return q;
                }
                case 'u': case 'U': {
                    int len = e == 'u' ? 4 : 8, q = p + 2, v = 0;
                    for (int i = 0; i < len; i++, q++) {
                        if (q >= n || Character.digit(s.charAt(q), 16) < 0) { out.append(e); return p + 2; }
                        v = v * 16 + Character.digit(s.charAt(q), 16);
                    }
                    if (Character.isValidCodePoint(v)) out.appendCodePoint(v);
                    return q;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        int q = p + 1, v = 0, digits = 0;
                        while (q < n && digits < 3 && s.charAt(q) >= '0' && s.charAt(q) <= '7') {
                            v = v * 8 + (s.charAt(q++) - '0');
                            digits++;
                        }
                        out.append((char) (v & 0xFF));
                        return q;
                    }
                    out.append(e); // \\ \' and any other character stand for themselves
                    return p + 2;
            }
        }

        private void quotedIdentifier(int tokenStart, int quotePos) {
            StringBuilder value = new StringBuilder();
            pos = quotePos + 1;
            while (pos < n) {
                char c = s.charAt(pos);
                if (c == '"') {
                    if (peek(1) == '"') {
                        value.append('"');
                        pos += 2;
                        continue;
                    }
                    pos++;
                    add(TokenType.QUOTED_IDENT, tokenStart, pos, value.toString(), null);
                    return;
                }
                value.append(c);
                pos++;
            }
            error = "unterminated quoted identifier at offset " + tokenStart;
        }

        /** {@code $1} is a parameter; {@code $tag$} or {@code $$} opens a dollar-quoted string. */
        private void dollar() {
            int start = pos;
            if (isDigit(peek(1))) {
                pos++;
                while (pos < n && isDigit(s.charAt(pos))) pos++;
                add(TokenType.PARAM, start, pos, s.substring(start, pos), null);
                return;
            }
            int p = pos + 1;
            if (p < n && isIdentStart(s.charAt(p))) {
                p++;
                while (p < n && isTagChar(s.charAt(p))) p++;
            }
            if (p < n && s.charAt(p) == '$') {
                String tag = s.substring(start, p + 1);
                int bodyStart = p + 1;
                int close = s.indexOf(tag, bodyStart);
                if (close < 0) {
                    error = "unterminated dollar-quoted string at offset " + start;
                    pos = n;
                    return;
                }
                pos = close + tag.length();
                add(TokenType.STRING, start, pos, s.substring(bodyStart, close), StringStyle.DOLLAR);
                return;
            }
            // a lone '$' is not valid SQL; keep it as an operator so the parser rejects it
            pos++;
            add(TokenType.OPERATOR, start, pos, "$", null);
        }

        private void word() {
            int start = pos;
            char c = s.charAt(pos);
            char next = peek(1);
            // prefixed string constants: E'...', U&'...', U&"...", B'...', X'...', N'...'
            if (next == '\'') {
                switch (Character.toUpperCase(c)) {
                    case 'E': quoted(start, pos + 1, true, StringStyle.ESCAPE); return;
                    case 'B': case 'X': quoted(start, pos + 1, false, StringStyle.BIT); return;
                    case 'N': quoted(start, pos + 1, !scs, StringStyle.STANDARD); return;
                    default: break;
                }
            }
            if ((c == 'U' || c == 'u') && next == '&' && (peek(2) == '\'' || peek(2) == '"')) {
                if (peek(2) == '\'') quoted(start, pos + 2, false, StringStyle.UNICODE);
                else quotedIdentifier(start, pos + 2);
                return;
            }
            pos++;
            while (pos < n && isIdentChar(s.charAt(pos))) pos++;
            String upper = s.substring(start, pos).toUpperCase(java.util.Locale.ROOT);
            trackRoutineBlocks(upper);
            add(TokenType.WORD, start, pos, upper, null);
        }

        private void trackRoutineBlocks(String upper) {
            if (current.isEmpty()) return;
            if (!routineDefinition) {
                routineDefinition = current.get(0).isWord("CREATE") && (upper.equals("FUNCTION") || upper.equals("PROCEDURE"));
                return;
            }
            switch (upper) {
                case "BEGIN", "CASE" -> blockDepth++;
                case "END" -> { if (blockDepth > 0) blockDepth--; }
                default -> { }
            }
        }

        private void number() {
            int start = pos;
            while (pos < n && (isDigit(s.charAt(pos)) || s.charAt(pos) == '.' || s.charAt(pos) == '_')) {
                if (s.charAt(pos) == '.' && peek(1) == '.') break; // 1..2 is not a number (array slices)
                pos++;
            }
            if (pos < n && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')
                    && (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
                pos += 2;
                while (pos < n && isDigit(s.charAt(pos))) pos++;
            }
            // 0x1F, 0o17, 0b101 (PostgreSQL 16) and junk like 123abc: swallow trailing identifier characters
            while (pos < n && isIdentChar(s.charAt(pos))) pos++;
            add(TokenType.NUMBER, start, pos, s.substring(start, pos), null);
        }

        private void punctuation(char c) {
            int start = pos++;
            switch (c) {
                case '(' -> {
                    depth++;
                    statementMaxDepth = Math.max(statementMaxDepth, depth);
                    maxDepth = Math.max(maxDepth, depth);
                    add(TokenType.LPAREN, start, pos, "(", null);
                }
                case ')' -> {
                    if (depth > 0) depth--;
                    add(TokenType.RPAREN, start, pos, ")", null);
                }
                case '[' -> add(TokenType.LBRACKET, start, pos, "[", null);
                case ']' -> add(TokenType.RBRACKET, start, pos, "]", null);
                case ',' -> add(TokenType.COMMA, start, pos, ",", null);
                case '.' -> add(TokenType.DOT, start, pos, ".", null);
                case ';' -> {
                    if (depth == 0 && blockDepth == 0) {
                        endStatement();
                    } else {
                        add(TokenType.SEMICOLON, start, pos, ";", null);
                    }
                }
                default -> {
                    // operators: a run of operator characters, but never swallow the start of a comment
                    while (pos < n && isOperatorChar(s.charAt(pos))
                            && !(s.charAt(pos) == '-' && peek(1) == '-') && !(s.charAt(pos) == '/' && peek(1) == '*')) {
                        pos++;
                    }
                    add(TokenType.OPERATOR, start, pos, s.substring(start, pos), null);
                }
            }
        }

        private void endStatement() {
            if (!current.isEmpty()) {
                statements.add(new LexedStatement(s, List.copyOf(current), statementMaxDepth));
            }
            current = new ArrayList<>();
            depth = 0;
            statementMaxDepth = 0;
            routineDefinition = false;
            blockDepth = 0;
        }

        /** PostgreSQL's whitespace only: other Unicode spaces are identifier characters to it (high-bit bytes). */
        private static boolean isSpace(char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000B';
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private static boolean isIdentStart(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
        }

        private static boolean isIdentChar(char c) {
            return isIdentStart(c) || isDigit(c) || c == '$';
        }

        private static boolean isTagChar(char c) {
            return isIdentStart(c) || isDigit(c);
        }

        private static boolean isOperatorChar(char c) {
            return "+-*/<>=~!@#%^&|`?:".indexOf(c) >= 0;
        }
    }
}
