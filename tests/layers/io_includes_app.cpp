// A loader must not see the scenario layer: this include has to fail to compile in the io target.
#include "podperf/app/scenario.hpp"
