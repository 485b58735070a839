#include "engine/graph/synthetic.h"
// Written by the synthetic-generator task.
