#include "add_two.h"

namespace add_two {
int add_two(int n) { return n; }
}
