#include "add_two.h"
#include "test/check.h"

CHECK_CASE(zero) { CHECK_EQ(add_two::add_two(0), 2); }

#if defined(EXERCISM_RUN_ALL_TESTS)
CHECK_CASE(negative) { CHECK_EQ(add_two::add_two(-5), -3); }
#endif
