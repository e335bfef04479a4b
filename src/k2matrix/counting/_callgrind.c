/* The client requests k2matrix issues to valgrind's callgrind around a timed call.
 *
 * Built by the project's install step (setup.py, an optional extension: without
 * valgrind/callgrind.h it is left out and `--clock instructions` says how to build it).
 * The macros are a no-op sequence of instructions outside valgrind: running() says 0 there.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <valgrind/callgrind.h>

static PyObject *running(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong((long)RUNNING_ON_VALGRIND);
}

static PyObject *start(PyObject *self, PyObject *unused)
{
    CALLGRIND_ZERO_STATS;
    CALLGRIND_START_INSTRUMENTATION;
    Py_RETURN_NONE;
}

static PyObject *stop(PyObject *self, PyObject *unused)
{
    CALLGRIND_STOP_INSTRUMENTATION;
    Py_RETURN_NONE;
}

static PyObject *dump(PyObject *self, PyObject *args)
{
    const char *label;
    if (!PyArg_ParseTuple(args, "s", &label))
        return NULL;
    CALLGRIND_DUMP_STATS_AT(label);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"running", running, METH_NOARGS,
     "How many valgrinds this process runs under (0 outside valgrind)."},
    {"start", start, METH_NOARGS, "Zero the counts and switch instrumentation on."},
    {"stop", stop, METH_NOARGS, "Switch instrumentation off."},
    {"dump", dump, METH_VARARGS, "Write the counts since the last zero to a dump file."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_callgrind",
    "callgrind client requests (zero, start, stop, dump) for k2matrix's instruction clock",
    -1, methods,
};

PyMODINIT_FUNC PyInit__callgrind(void)
{
    return PyModule_Create(&module);
}
