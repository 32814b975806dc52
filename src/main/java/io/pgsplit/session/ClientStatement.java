package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.route.Classification;
import io.pgsplit.route.StatementInfo;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A statement a client prepared with the extended protocol. On servers it lives under a name
 * pgsplit derives from its text and parameter types, so every client preparing the same text shares
 * one server-side statement per server connection, and any connection can be given it lazily.
 */
final class ClientStatement {
    private final String name;
    private final String sql;
    private final int[] paramTypes;
    private final String serverName;
    private final Classification classification;
    /** When the client parsed it, in {@link io.pgsplit.pool.PreparedStatementCache#nextSequence()} order. */
    private final long parsedAt = io.pgsplit.pool.PreparedStatementCache.nextSequence();
    /** For the unnamed statement: the connection it was last parsed on. */
    ServerConnection preparedOn;

    private ClientStatement(String name, String sql, int[] paramTypes, Classification classification) {
        this.name = name;
        this.sql = sql;
        this.paramTypes = paramTypes;
        this.classification = classification;
        this.serverName = name.isEmpty() ? "" : serverNameFor(sql, paramTypes);
    }

    static ClientStatement of(String name, String sql, ByteBuf typesSection, Classification c) {
        int n = typesSection.readableBytes() >= 2 ? typesSection.getUnsignedShort(typesSection.readerIndex()) : 0;
        int[] types = new int[n];
        for (int i = 0; i < n && typesSection.readableBytes() >= 2 + 4 * (i + 1); i++) {
            types[i] = typesSection.getInt(typesSection.readerIndex() + 2 + 4 * i);
        }
        return new ClientStatement(name, sql, types, c);
    }

    /** "pgsplit_" and a 128-bit digest of the text and types: collisions are not a practical concern. */
    static String serverNameFor(String sql, int[] types) {
        long h1 = 0xcbf29ce484222325L;
        long h2 = 0x84222325cbf29ce4L;
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            h1 = (h1 ^ (b & 0xff)) * 0x100000001b3L;
            h2 = (h2 ^ (b & 0xff)) * 0x100000001b3L + 0x9e3779b97f4a7c15L;
        }
        for (int t : types) {
            h1 = (h1 ^ t) * 0x100000001b3L;
            h2 = Long.rotateLeft(h2 ^ t, 17) * 0x100000001b3L;
        }
        return "pgsplit_" + Long.toHexString(h1) + Long.toHexString(h2 ^ bytes.length);
    }

    long parsedAt() {
        return parsedAt;
    }

    String name() {
        return name;
    }

    String sql() {
        return sql;
    }

    int[] paramTypes() {
        return paramTypes;
    }

    String serverName() {
        return serverName;
    }

    List<StatementInfo> statements() {
        return classification.parsed().statements();
    }

    boolean write() {
        return classification.write();
    }

    String reason() {
        return classification.reason();
    }
}
