// The core must not see a loader: this include has to fail to compile in the core's target.
#include "podperf/io/hwdb.hpp"
