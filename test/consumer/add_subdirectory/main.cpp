// Consumer test: the umbrella header compiles and links through zuki::zuki.
#include <zuki/zuki.hpp>

int main() {
    auto p = zuki::Poll<int>::ready(42);
    return p.value() == 42 ? 0 : 1;
}
