// SPDX-License-Identifier: MIT
// nn_mpi.h compiles as C++ (extern "C", no C-only constructs) and its
// functions link from a C++ program: no MPI_Init needed for this one.
#include "nn_mpi.h"

int main()
{
    return nn_mpi_last_error()[0] == '\0' ? 0 : 1;
}
