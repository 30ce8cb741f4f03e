#pragma once

namespace add_two {
int add_two(int n);
}
