import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

public class AddTwoTest {
    @Test
    public void zero() {
        assertThat(AddTwo.addTwo(0)).isEqualTo(2);
    }

    @Disabled("Remove to run test")
    @Test
    public void negative() {
        assertThat(AddTwo.addTwo(-5)).isEqualTo(-3);
    }
}
