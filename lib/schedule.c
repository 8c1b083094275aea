/* SPDX-License-Identifier: MIT */
/*
 * Learning-rate schedules: the factor applied to the base learning rate at
 * the start of each epoch, as torch.optim.lr_scheduler defines them (one
 * scheduler step per epoch). Formulas in nn.h at nn_schedule.
 */
#include <math.h>

#include "internal.h"

#define PI 3.14159265358979323846

void nn__schedule_begin_epoch(nn_net *net)
{
    const nn__settings *s = &net->set;
    double e = (double)net->sched.epochs_done;
    double lr0 = s->learning_rate;
    switch (s->schedule) {
    case NN_SCHEDULE_STEP:
        net->sched.lr_factor = pow(s->gamma, floor(e / (double)s->step_size));
        break;
    case NN_SCHEDULE_EXPONENTIAL:
        net->sched.lr_factor = pow(s->gamma, e);
        break;
    case NN_SCHEDULE_COSINE: {
        double t = fmin(e, (double)s->t_max) / (double)s->t_max;
        double lr = s->min_lr + (lr0 - s->min_lr) * (1.0 + cos(PI * t)) / 2;
        net->sched.lr_factor = lr / lr0;
        break;
    }
    case NN_SCHEDULE_PLATEAU: /* changed at the end of epochs only */
        break;
    default:
        net->sched.lr_factor = 1.0;
        break;
    }
}

void nn__schedule_end_epoch(nn_net *net, double monitored)
{
    nn__schedule_state *st = &net->sched;
    const nn__settings *s = &net->set;
    st->epochs_done++;
    if (s->schedule != NN_SCHEDULE_PLATEAU)
        return;
    /* ReduceLROnPlateau, mode 'min', threshold 1e-4 relative, cooldown 0. */
    if (monitored < st->plateau_best * (1.0 - 1e-4)) {
        st->plateau_best = monitored;
        st->plateau_bad = 0;
        return;
    }
    if (++st->plateau_bad <= s->plateau_patience)
        return;
    double lr = s->learning_rate * st->lr_factor;
    double reduced = fmax(lr * s->gamma, s->min_lr);
    st->lr_factor = reduced / s->learning_rate;
    st->plateau_bad = 0;
}

void nn__schedule_restart(nn_net *net)
{
    net->sched.epochs_done = 0;
    net->sched.lr_factor = 1.0;
    net->sched.plateau_best = HUGE_VAL;
    net->sched.plateau_bad = 0;
}
