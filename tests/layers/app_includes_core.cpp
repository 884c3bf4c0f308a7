// The direction of the data: the app layer sees the core and the loaders (this one compiles).
#include "podperf/app/scenario.hpp"
#include "podperf/core/roofline.hpp"
#include "podperf/io/hwdb.hpp"
int podperf_layers_compile() { return 0; }
