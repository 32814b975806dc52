package io.pgsplit.protocol;

/**
 * Message type bytes of protocol 3.0. Frontend (client to server) and backend (server to client)
 * codes overlap ('D' is Describe one way and DataRow the other), hence two nested classes.
 */
public final class MessageType {
    /** Sent by clients. */
    public static final class Frontend {
        public static final byte BIND = 'B';
        public static final byte CLOSE = 'C';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte COPY_FAIL = 'f';
        public static final byte DESCRIBE = 'D';
        public static final byte EXECUTE = 'E';
        public static final byte FLUSH = 'H';
        public static final byte FUNCTION_CALL = 'F';
        public static final byte PARSE = 'P';
        public static final byte PASSWORD = 'p'; // also SASLInitialResponse and SASLResponse
        public static final byte QUERY = 'Q';
        public static final byte SYNC = 'S';
        public static final byte TERMINATE = 'X';

        private Frontend() {
        }
    }

    /** Sent by servers. */
    public static final class Backend {
        public static final byte AUTHENTICATION = 'R';
        public static final byte BACKEND_KEY_DATA = 'K';
        public static final byte BIND_COMPLETE = '2';
        public static final byte CLOSE_COMPLETE = '3';
        public static final byte COMMAND_COMPLETE = 'C';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte COPY_IN_RESPONSE = 'G';
        public static final byte COPY_OUT_RESPONSE = 'H';
        public static final byte COPY_BOTH_RESPONSE = 'W';
        public static final byte DATA_ROW = 'D';
        public static final byte EMPTY_QUERY_RESPONSE = 'I';
        public static final byte ERROR_RESPONSE = 'E';
        public static final byte FUNCTION_CALL_RESPONSE = 'V';
        public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
        public static final byte NO_DATA = 'n';
        public static final byte NOTICE_RESPONSE = 'N';
        public static final byte NOTIFICATION_RESPONSE = 'A';
        public static final byte PARAMETER_DESCRIPTION = 't';
        public static final byte PARAMETER_STATUS = 'S';
        public static final byte PARSE_COMPLETE = '1';
        public static final byte PORTAL_SUSPENDED = 's';
        public static final byte READY_FOR_QUERY = 'Z';
        public static final byte ROW_DESCRIPTION = 'T';

        private Backend() {
        }
    }

    /** Codes in the version field of length-prefixed, untyped start-up packets. */
    public static final int PROTOCOL_3_0 = 196608;
    public static final int SSL_REQUEST = 80877103;
    public static final int GSSENC_REQUEST = 80877104;
    public static final int CANCEL_REQUEST = 80877102;

    /** AuthenticationXxx sub-codes. */
    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT = 3;
    public static final int AUTH_MD5 = 5;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    private MessageType() {
    }
}
