package io.pgsplit.route;

import io.pgsplit.route.SqlLexer.Token;
import io.pgsplit.route.SqlLexer.TokenType;

import java.util.ArrayList;
import java.util.List;

/** One statement as split by {@link SqlLexer}: its tokens (no comments, no whitespace) and where it is in the text. */
public final class LexedStatement {
    private final String source;
    private final List<Token> tokens;
    private final int maxDepth;

    LexedStatement(String source, List<Token> tokens, int maxDepth) {
        this.source = source;
        this.tokens = tokens;
        this.maxDepth = maxDepth;
    }

    public List<Token> tokens() {
        return tokens;
    }

    public int size() {
        return tokens.size();
    }

    public Token token(int i) {
        return i >= 0 && i < tokens.size() ? tokens.get(i) : null;
    }

    /** The upper-cased word at {@code i}, or null when that token is not an unquoted word. */
    public String word(int i) {
        Token t = token(i);
        return t != null && t.type() == TokenType.WORD ? t.value() : null;
    }

    public boolean isWord(int i, String upper) {
        Token t = token(i);
        return t != null && t.isWord(upper);
    }

    /** The first keyword, upper-case: the first unquoted word, skipping leading parentheses ("(SELECT 1)"). */
    public String firstKeyword() {
        for (Token t : tokens) {
            if (t.type() == TokenType.WORD) return t.value();
            if (t.type() != TokenType.LPAREN) return "";
        }
        return "";
    }

    /** All unquoted words, upper-cased, in order. */
    public List<String> keywords() {
        List<String> words = new ArrayList<>();
        for (Token t : tokens) {
            if (t.type() == TokenType.WORD) words.add(t.value());
        }
        return words;
    }

    public boolean containsWord(String upper) {
        for (Token t : tokens) {
            if (t.isWord(upper)) return true;
        }
        return false;
    }

    public int maxDepth() {
        return maxDepth;
    }

    /** The statement's text as written, from its first to its last token (comments between tokens included). */
    public String text() {
        return textFrom(0);
    }

    /** The text from token {@code i} to the end of the statement ("" when {@code i} is past the end). */
    public String textFrom(int i) {
        if (i >= tokens.size()) return "";
        return source.substring(tokens.get(i).start(), tokens.get(tokens.size() - 1).end());
    }

    /** The text from the absolute offset {@code offset} in the query string to the end of the statement, trimmed. */
    public String textFromOffset(int offset) {
        if (tokens.isEmpty()) return "";
        int end = tokens.get(tokens.size() - 1).end();
        return offset >= end ? "" : source.substring(offset, end).trim();
    }

    /** Tokens {@code from} (inclusive) to {@code to} (exclusive) as a statement of their own, e.g. EXPLAIN's query. */
    public LexedStatement sub(int from, int to) {
        from = Math.min(from, tokens.size());
        to = Math.max(from, Math.min(to, tokens.size()));
        List<Token> part = tokens.subList(from, to);
        int depth = 0, max = 0;
        for (Token t : part) {
            if (t.type() == TokenType.LPAREN) max = Math.max(max, ++depth);
            else if (t.type() == TokenType.RPAREN && depth > 0) depth--;
        }
        return new LexedStatement(source, part, max);
    }

    /** The index of the parenthesis closing the one at {@code open}, or -1. */
    public int matchingParen(int open) {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            TokenType type = tokens.get(i).type();
            if (type == TokenType.LPAREN) depth++;
            else if (type == TokenType.RPAREN && --depth == 0) return i;
        }
        return -1;
    }

    /** The index of the first unquoted word at parenthesis depth 0, from {@code from} on, that is one of {@code words}; or -1. */
    public int findTopLevelWord(int from, String... words) {
        int depth = 0;
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.type() == TokenType.LPAREN) depth++;
            else if (t.type() == TokenType.RPAREN && depth > 0) depth--;
            else if (i >= from && depth == 0 && t.type() == TokenType.WORD) {
                for (String w : words) {
                    if (t.value().equals(w)) return i;
                }
            }
        }
        return -1;
    }

    /** The raw text of token {@code i}. */
    public String raw(int i) {
        Token t = tokens.get(i);
        return source.substring(t.start(), t.end());
    }

    @Override
    public String toString() {
        return text();
    }
}
