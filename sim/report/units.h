// Human-readable quantities for terminal output: IEC prefixes for bytes (GiB), SI prefixes for
// rates and counts (TFLOP/s, 70.6 B), fixed significant digits so output is stable.
#pragma once

#include <string>

namespace stepsim {

std::string format_bytes(double bytes);              // "131.4 GiB"
std::string format_si(double value, const std::string& unit);  // "2.19 P" + unit
std::string format_count(double value);              // "70.55 B", "8.03 B", "124.4 M"
std::string format_seconds(double seconds);          // "1.234 s", "12.3 ms"

}  // namespace stepsim
