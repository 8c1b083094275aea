/* SPDX-License-Identifier: MIT */
/*
 * nn_set / nn_get: the defaults of nn.h, exact round trips of
 * valid values (boundaries included), rejection with NN_EINVAL of every
 * out-of-range, non-integral, NaN or infinite value, read-only and unknown
 * options and losses the last layer does not support, leaving every
 * setting, the parameters and the optimizer state as they were. Optimizer resets are
 * checked against hand-computed updates in test_optim.c.
 */
#include "testutil.h"

#include <limits.h>

static void check_defaults(nn_activation last, double want_loss)
{
    static const size_t sizes[] = {3, 5, 2};
    const nn_activation acts[] = {NN_RELU, last};
    nn_net *fresh = tu_create(3, sizes, acts, 0, 1);
    const double want[TU_N_OPTIONS] = {
        [NN_OPT_LEARNING_RATE] = 0.01, [NN_OPT_OPTIMIZER] = NN_SGD,
        [NN_OPT_MOMENTUM] = 0.9,       [NN_OPT_BETA1] = 0.9,
        [NN_OPT_BETA2] = 0.999,        [NN_OPT_EPSILON] = 1e-8,
        [NN_OPT_WEIGHT_DECAY] = 0,     [NN_OPT_LOSS] = want_loss,
        [NN_OPT_BATCH_SIZE] = 32,      [NN_OPT_SHUFFLE] = 1,
        [NN_OPT_RMSPROP_ALPHA] = 0.99,
        /* the training kit of nn.h */
        [NN_OPT_DROPOUT] = 0,          [NN_OPT_CLIP_NORM] = 0,
        [NN_OPT_SCHEDULE] = NN_SCHEDULE_CONSTANT,
        [NN_OPT_STEP_SIZE] = 10,       [NN_OPT_GAMMA] = 0.1,
        [NN_OPT_T_MAX] = 100,          [NN_OPT_MIN_LR] = 0,
        [NN_OPT_PLATEAU_PATIENCE] = 10, [NN_OPT_EARLY_STOPPING] = 0,
        [NN_OPT_CURRENT_LR] = 0.01,    [NN_OPT_EPOCHS_DONE] = 0,
    };
    double got[TU_N_OPTIONS];
    tu_get_all(fresh, got);
    for (int o = 0; o < TU_N_OPTIONS; o++)
        if (got[o] != want[o])
            TU_FAIL("last layer %d, option %d: default %.17g, want %.17g",
                     (int)last, o, got[o], want[o]);
    nn_free(fresh);
}

static void test_defaults(void **state)
{
    (void)state;
    check_defaults(NN_IDENTITY, NN_LOSS_MSE);
    check_defaults(NN_SIGMOID, NN_LOSS_MSE);
    check_defaults(NN_TANH, NN_LOSS_MSE);
    check_defaults(NN_RELU, NN_LOSS_MSE);
    check_defaults(NN_LEAKY_RELU, NN_LOSS_MSE);
    check_defaults(NN_SOFTMAX, NN_LOSS_CROSS_ENTROPY);
}

typedef struct setting {
    int option;
    double value;
} setting;

/* Valid values, boundaries included; each must read back exactly. */
static const setting valid[] = {
    {NN_OPT_LEARNING_RATE, 1e-9},  {NN_OPT_LEARNING_RATE, 0.3},
    {NN_OPT_LEARNING_RATE, 100},   {NN_OPT_OPTIMIZER, NN_SGD},
    {NN_OPT_OPTIMIZER, NN_MOMENTUM}, {NN_OPT_OPTIMIZER, NN_NESTEROV},
    {NN_OPT_OPTIMIZER, NN_ADAM},   {NN_OPT_OPTIMIZER, NN_ADAMW},
    {NN_OPT_OPTIMIZER, NN_RMSPROP}, {NN_OPT_MOMENTUM, 0},
    {NN_OPT_MOMENTUM, 0.5},        {NN_OPT_MOMENTUM, 0.999999},
    {NN_OPT_BETA1, 0},             {NN_OPT_BETA1, 0.8},
    {NN_OPT_BETA1, 0.9999},        {NN_OPT_BETA2, 0},
    {NN_OPT_BETA2, 0.95},          {NN_OPT_EPSILON, 1e-30},
    {NN_OPT_EPSILON, 0.5},         {NN_OPT_EPSILON, 3},
    {NN_OPT_WEIGHT_DECAY, 0},      {NN_OPT_WEIGHT_DECAY, 0.01},
    {NN_OPT_WEIGHT_DECAY, 5},      {NN_OPT_LOSS, NN_LOSS_MSE},
    {NN_OPT_LOSS, NN_LOSS_BINARY_CROSS_ENTROPY},
    {NN_OPT_BATCH_SIZE, 1},        {NN_OPT_BATCH_SIZE, 1000},
    {NN_OPT_SHUFFLE, 0},           {NN_OPT_SHUFFLE, 1},
    {NN_OPT_RMSPROP_ALPHA, 0},     {NN_OPT_RMSPROP_ALPHA, 0.9},
    {NN_OPT_DROPOUT, 0},           {NN_OPT_DROPOUT, 0.5},
    {NN_OPT_CLIP_NORM, 0},         {NN_OPT_CLIP_NORM, 1.5},
    {NN_OPT_SCHEDULE, NN_SCHEDULE_STEP},
    {NN_OPT_SCHEDULE, NN_SCHEDULE_EXPONENTIAL},
    {NN_OPT_SCHEDULE, NN_SCHEDULE_COSINE},
    {NN_OPT_SCHEDULE, NN_SCHEDULE_PLATEAU},
    {NN_OPT_SCHEDULE, NN_SCHEDULE_CONSTANT},
    {NN_OPT_STEP_SIZE, 1},         {NN_OPT_STEP_SIZE, 7},
    {NN_OPT_GAMMA, 1},             {NN_OPT_GAMMA, 0.5},
    {NN_OPT_T_MAX, 1},             {NN_OPT_T_MAX, 50},
    {NN_OPT_MIN_LR, 0},            {NN_OPT_MIN_LR, 1e-4},
    {NN_OPT_PLATEAU_PATIENCE, 0},  {NN_OPT_PLATEAU_PATIENCE, 3},
    {NN_OPT_EARLY_STOPPING, 0},    {NN_OPT_EARLY_STOPPING, 5},
};

static int read_only(int option)
{
    return option == NN_OPT_CURRENT_LR || option == NN_OPT_EPOCHS_DONE;
}

static void test_round_trip(void **state)
{
    (void)state;
    /* sigmoid last layer: MSE and BCE are both allowed */
    nn_net *net = tu_fixture(NN_SIGMOID);
    for (size_t k = 0; k < TU_ARRAY_LEN(valid); k++) {
        double before[TU_N_OPTIONS], after[TU_N_OPTIONS];
        tu_get_all(net, before);
        int rc = nn_set(net, valid[k].option, valid[k].value);
        if (rc != NN_OK)
            TU_FAIL("nn_set(option %d, %.17g) = %s", valid[k].option,
                     valid[k].value, nn_error_name(rc));
        tu_get_all(net, after);
        if (after[valid[k].option] != valid[k].value)
            TU_FAIL("option %d reads back %.17g, want %.17g",
                     valid[k].option, after[valid[k].option], valid[k].value);
        /* and nothing else moved */
        for (int o = 0; o < TU_N_OPTIONS; o++)
            if (o != valid[k].option && !read_only(o) && after[o] != before[o])
                TU_FAIL("setting option %d changed option %d",
                         valid[k].option, o);
    }
    tu_expect_no_detail_(net, __FILE__, __LINE__);
    nn_free(net);
}

/* Out of range, non-integral, NaN, infinite. */
static const setting invalid[] = {
    {NN_OPT_LEARNING_RATE, 0},      {NN_OPT_LEARNING_RATE, -0.01},
    {NN_OPT_LEARNING_RATE, NAN},    {NN_OPT_LEARNING_RATE, INFINITY},
    {NN_OPT_LEARNING_RATE, -INFINITY},
    {NN_OPT_OPTIMIZER, -1},         {NN_OPT_OPTIMIZER, 6},
    {NN_OPT_OPTIMIZER, 0.5},        {NN_OPT_OPTIMIZER, 3.0000001},
    {NN_OPT_OPTIMIZER, 1e300},      {NN_OPT_OPTIMIZER, NAN},
    {NN_OPT_OPTIMIZER, INFINITY},
    {NN_OPT_MOMENTUM, -0.01},       {NN_OPT_MOMENTUM, 1},
    {NN_OPT_MOMENTUM, 1.5},         {NN_OPT_MOMENTUM, NAN},
    {NN_OPT_MOMENTUM, INFINITY},
    {NN_OPT_BETA1, -0.1},           {NN_OPT_BETA1, 1},
    {NN_OPT_BETA1, NAN},            {NN_OPT_BETA1, -INFINITY},
    {NN_OPT_BETA2, -1e-9},          {NN_OPT_BETA2, 1},
    {NN_OPT_BETA2, 2},              {NN_OPT_BETA2, NAN},
    {NN_OPT_EPSILON, 0},            {NN_OPT_EPSILON, -1e-8},
    {NN_OPT_EPSILON, NAN},          {NN_OPT_EPSILON, INFINITY},
    {NN_OPT_WEIGHT_DECAY, -1e-3},   {NN_OPT_WEIGHT_DECAY, NAN},
    {NN_OPT_WEIGHT_DECAY, INFINITY},
    {NN_OPT_LOSS, -1},              {NN_OPT_LOSS, 3},
    {NN_OPT_LOSS, 0.5},             {NN_OPT_LOSS, NAN},
    {NN_OPT_LOSS, INFINITY},
    {NN_OPT_BATCH_SIZE, 0},         {NN_OPT_BATCH_SIZE, -1},
    {NN_OPT_BATCH_SIZE, 1.5},       {NN_OPT_BATCH_SIZE, 32.25},
    {NN_OPT_BATCH_SIZE, 1e300},     {NN_OPT_BATCH_SIZE, NAN},
    {NN_OPT_BATCH_SIZE, INFINITY},
    {NN_OPT_SHUFFLE, -1},           {NN_OPT_SHUFFLE, 2},
    {NN_OPT_SHUFFLE, 0.5},          {NN_OPT_SHUFFLE, NAN},
    {NN_OPT_RMSPROP_ALPHA, -0.1},   {NN_OPT_RMSPROP_ALPHA, 1},
    {NN_OPT_RMSPROP_ALPHA, NAN},    {NN_OPT_RMSPROP_ALPHA, INFINITY},
    {NN_OPT_DROPOUT, -0.1},         {NN_OPT_DROPOUT, 1},
    {NN_OPT_DROPOUT, NAN},
    {NN_OPT_CLIP_NORM, -1},         {NN_OPT_CLIP_NORM, NAN},
    {NN_OPT_SCHEDULE, -1},          {NN_OPT_SCHEDULE, 5},
    {NN_OPT_SCHEDULE, 1.5},         {NN_OPT_SCHEDULE, NAN},
    {NN_OPT_STEP_SIZE, 0},          {NN_OPT_STEP_SIZE, 1.5},
    {NN_OPT_STEP_SIZE, NAN},
    {NN_OPT_GAMMA, 0},              {NN_OPT_GAMMA, 1.01},
    {NN_OPT_GAMMA, -0.5},           {NN_OPT_GAMMA, NAN},
    {NN_OPT_T_MAX, 0},              {NN_OPT_T_MAX, 2.5},
    {NN_OPT_T_MAX, NAN},
    {NN_OPT_MIN_LR, -1e-3},         {NN_OPT_MIN_LR, NAN},
    {NN_OPT_PLATEAU_PATIENCE, -1},  {NN_OPT_PLATEAU_PATIENCE, 0.5},
    {NN_OPT_PLATEAU_PATIENCE, NAN},
    {NN_OPT_EARLY_STOPPING, -1},    {NN_OPT_EARLY_STOPPING, 1.5},
    {NN_OPT_EARLY_STOPPING, NAN},
    /* read-only */
    {NN_OPT_CURRENT_LR, 0.1},       {NN_OPT_EPOCHS_DONE, 0},
    {NN_OPT_EPOCHS_DONE, 3},
    /* unknown options */
    {-1, 0.5},                      {NN_OPT_THREADS + 1, 0.5},
    {1000, 1},                      {INT_MAX, 1},
    {INT_MIN, 1},
};

static void test_rejects_invalid_values(void **state)
{
    (void)state;
    for (size_t k = 0; k < TU_ARRAY_LEN(invalid); k++) {
        nn_net *net = tu_fixture(NN_SIGMOID);
        TU_CONTEXT("nn_set(option %d, %g)", invalid[k].option,
                   invalid[k].value);
        EXPECT_NET_FAIL(net, NN_EINVAL,
                        nn_set(net, invalid[k].option, invalid[k].value));
        nn_free(net);
    }
    TU_CONTEXT_CLEAR();
}

/* Cross-entropy needs softmax, binary cross-entropy needs sigmoid. */
static void test_loss_must_fit_last_layer(void **state)
{
    (void)state;
    static const nn_activation lasts[] = {NN_IDENTITY, NN_SIGMOID, NN_TANH,
                                          NN_RELU, NN_SOFTMAX, NN_LEAKY_RELU};
    for (size_t k = 0; k < TU_ARRAY_LEN(lasts); k++) {
        nn_activation last = lasts[k];
        for (int loss = NN_LOSS_CROSS_ENTROPY;
             loss <= NN_LOSS_BINARY_CROSS_ENTROPY; loss++) {
            int ok = (loss == NN_LOSS_CROSS_ENTROPY && last == NN_SOFTMAX) ||
                     (loss == NN_LOSS_BINARY_CROSS_ENTROPY &&
                      last == NN_SIGMOID);
            nn_net *net = tu_fixture(last);
            TU_CONTEXT("last layer %d, loss %d", (int)last, loss);
            if (ok) {
                double v;
                ASSERT_OK(nn_set(net, NN_OPT_LOSS, loss));
                ASSERT_OK(nn_get(net, NN_OPT_LOSS, &v));
                assert_true(v == loss);
            } else {
                EXPECT_NET_FAIL(net, NN_EINVAL,
                                nn_set(net, NN_OPT_LOSS, loss));
            }
            /* MSE works with any last layer */
            ASSERT_OK(nn_set(net, NN_OPT_LOSS, NN_LOSS_MSE));
            nn_free(net);
        }
    }
    TU_CONTEXT_CLEAR();
}

static void test_null_and_unknown_in_get(void **state)
{
    (void)state;
    nn_net *net = tu_fixture(NN_SIGMOID);
    double v = 12345;
    EXPECT_FAIL(NN_EINVAL, nn_set(NULL, NN_OPT_LEARNING_RATE, 0.1));
    EXPECT_FAIL(NN_EINVAL, nn_get(NULL, NN_OPT_LEARNING_RATE, &v));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_get(net, NN_OPT_LEARNING_RATE, NULL));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_get(net, -1, &v));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_get(net, NN_OPT_THREADS + 1, &v));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_get(net, INT_MAX, &v));
    nn_free(net);
}

static void test_settings_are_per_handle(void **state)
{
    (void)state;
    nn_net *a = tu_fixture(NN_SIGMOID), *b = tu_fixture(NN_SIGMOID);
    double before[TU_N_OPTIONS], after[TU_N_OPTIONS], v;
    tu_get_all(b, before);
    ASSERT_OK(nn_set(a, NN_OPT_LEARNING_RATE, 0.77));
    ASSERT_OK(nn_set(a, NN_OPT_OPTIMIZER, NN_RMSPROP));
    ASSERT_OK(nn_set(a, NN_OPT_BATCH_SIZE, 3));
    ASSERT_OK(nn_set(a, NN_OPT_SHUFFLE, 0));
    tu_get_all(b, after);
    assert_memory_equal(before, after, sizeof before);
    ASSERT_OK(nn_get(a, NN_OPT_LEARNING_RATE, &v));
    assert_true(v == 0.77);
    nn_free(a);
    nn_free(b);
}

/* An explicit loss survives and is not re-derived: MSE on a softmax net. */
static void test_explicit_loss_sticks(void **state)
{
    (void)state;
    nn_net *net = tu_fixture(NN_SOFTMAX);
    double v;
    ASSERT_OK(nn_set(net, NN_OPT_LOSS, NN_LOSS_MSE));
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    ASSERT_OK(nn_get(net, NN_OPT_LOSS, &v));
    assert_true(v == NN_LOSS_MSE);
    nn_net *c = tu_clone(net);
    ASSERT_OK(nn_get(c, NN_OPT_LOSS, &v));
    assert_true(v == NN_LOSS_MSE);
    nn_free(c);
    nn_free(net);
}

/* With the constant schedule the rate in use is the one set. */
static void test_current_lr_follows_learning_rate(void **state)
{
    (void)state;
    nn_net *net = tu_fixture(NN_SIGMOID);
    double v;
    ASSERT_OK(nn_set(net, NN_OPT_LEARNING_RATE, 0.125));
    ASSERT_OK(nn_get(net, NN_OPT_CURRENT_LR, &v));
    assert_true(v == 0.125);
    nn_free(net);
}

/* nn_option_name and nn_option_bounds describe what nn_set does: every
 * writable option accepts its bounds unless they are open, refuses the
 * next double beyond each finite bound and non-integers where it must be
 * an integer; read-only ones refuse everything. (Threads, process-wide, is
 * left alone: setting its upper bound would start 1024 BLAS threads.) */
static void test_option_table(void **state)
{
    (void)state;
    assert_string_equal(nn_option_name(NN_OPT_LEARNING_RATE), "learning_rate");
    assert_string_equal(nn_option_name(NN_OPT_EARLY_STOPPING),
                        "early_stopping");
    assert_string_equal(nn_option_name(NN_OPT_THREADS), "threads");
    assert_null(nn_option_name(NN_OPT_COUNT));
    assert_null(nn_option_name(-1));
    ASSERT_RC(nn_option_bounds(NN_OPT_COUNT, NULL, NULL, NULL), NN_EINVAL);
    for (int o = 0; o < NN_OPT_COUNT; o++) {
        double lo, hi;
        unsigned f;
        ASSERT_OK(nn_option_bounds(o, &lo, &hi, &f));
        assert_non_null(nn_option_name(o));
        assert_true(lo <= hi);
        if (o == NN_OPT_THREADS)
            continue;
        nn_net *net = tu_fixture(NN_SIGMOID);
        TU_CONTEXT("option %s", nn_option_name(o));
        int ro = (f & NN_OPTION_READ_ONLY) != 0;
        if (isfinite(lo)) {
            ASSERT_RC(nn_set(net, o, lo),
                      ro || (f & NN_OPTION_LOWER_OPEN) ? NN_EINVAL : NN_OK);
            ASSERT_RC(nn_set(net, o, nextafter(lo, -INFINITY)), NN_EINVAL);
        }
        if (isfinite(hi)) {
            ASSERT_RC(nn_set(net, o, hi),
                      ro || (f & NN_OPTION_UPPER_OPEN) ? NN_EINVAL : NN_OK);
            ASSERT_RC(nn_set(net, o, nextafter(hi, INFINITY)), NN_EINVAL);
        } else {
            ASSERT_RC(nn_set(net, o, INFINITY), NN_EINVAL);
        }
        ASSERT_RC(nn_set(net, o, NAN), NN_EINVAL);
        if (f & NN_OPTION_INTEGER && hi - lo >= 1)
            ASSERT_RC(nn_set(net, o, lo + 0.5), NN_EINVAL);
        nn_free(net);
    }
    TU_CONTEXT_CLEAR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rejects_invalid_values),
        cmocka_unit_test(test_loss_must_fit_last_layer),
        cmocka_unit_test(test_null_and_unknown_in_get),
        cmocka_unit_test(test_settings_are_per_handle),
        cmocka_unit_test(test_explicit_loss_sticks),
        cmocka_unit_test(test_current_lr_follows_learning_rate),
        cmocka_unit_test(test_option_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
