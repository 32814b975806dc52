package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DescribeTest {
    @Test
    void connectErrorsLoseTheAddressTheMessageNamesAlready() {
        assertEquals("Connection refused", Pool.describe(new ConnectException("Connection refused: /127.0.0.1:5433")));
        assertEquals("Connection refused", Pool.describe(new ConnectException("connect(..) failed: Connection refused: localhost/127.0.0.1:5433")));
        assertEquals("Connection refused", Pool.describe(new ConnectException("connect(..) failed: Connection refused")));
        assertEquals("Connection refused", Pool.describe(new ConnectException("finishConnect(..) failed with error(-111): Connection refused")));
        assertEquals("connection timed out after 5000 ms",
                Pool.describe(new ConnectTimeoutException("connection timed out after 5000 ms: /10.0.0.1:5432")));
        assertEquals("No route to host", Pool.describe(new ConnectException("No route to host: /[::1]:5432")));
    }

    @Test
    void durationsInTheWaitMessage() {
        assertEquals("120 s", Pool.seconds(Duration.ofSeconds(120)));
        assertEquals("1500 ms", Pool.seconds(Duration.ofMillis(1500)));
    }
}
