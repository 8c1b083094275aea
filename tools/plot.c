/* SPDX-License-Identifier: MIT */
/*
 * The training curves as a self-contained SVG: one panel for the loss and,
 * for classifiers, one for the accuracy, each with axes, ticks at "nice"
 * numbers (1, 2 or 5 times a power of ten), training as a solid line and
 * validation dashed, and the best validation epoch marked. The legend is
 * a row above the plot area, so it never covers a curve; the loss axis is
 * logarithmic when the loss falls by a factor of 10 or more (or with
 * --plot-log), so that its late epochs do not flatten out. No scripts,
 * styles or fonts from elsewhere: the file shows the same in a browser, an
 * image viewer or a document.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "history.h"

/* Geometry of one panel, in SVG user units. */
enum { PANEL_W = 480, PANEL_H = 380, LEFT = 64, RIGHT = 16, TOP = 68,
       BOTTOM = 52, TITLE_H = 28 };

#define TRAIN_COLOR "#1f77b4"
#define VAL_COLOR "#ff7f0e"

/* A data range mapped onto a panel's plot area. */
typedef struct axes {
    double x0, y0, w, h;        /* plot area, top-left origin */
    double xmin, xmax, ymin, ymax; /* ymin, ymax: log10 of them when log;
                                      x: epochs, the first kept at xmin */
    int log;                    /* a logarithmic y axis */
} axes;

static double px(const axes *a, double x)
{
    return a->x0 + (x - a->xmin) / (a->xmax - a->xmin) * a->w;
}

static double py(const axes *a, double y)
{
    if (a->log)
        y = log10(y);
    return a->y0 + a->h - (y - a->ymin) / (a->ymax - a->ymin) * a->h;
}

/* A value a panel can draw: finite, and positive on a log axis. */
static int drawable(const axes *a, double v)
{
    return isfinite(v) && (!a->log || v > 0);
}

/* 1, 2 or 5 times a power of ten, near range / 5. */
static double nice_step(double range)
{
    double raw = range / 5, mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        default:
            /* control bytes are not allowed in XML 1.0 text */
            fputc((unsigned char)*s < 32 ? '?' : *s, f);
        }
    }
}

/* The least and the greatest finite value of the series a and b (b may
 * be NULL), of the positive ones only when `positive`; *lo > *hi when
 * there is none. */
static void extent(const double *a, const double *b, size_t n, int positive,
                   double *lo, double *hi)
{
    *lo = HUGE_VAL;
    *hi = -HUGE_VAL;
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < 2; s++) {
            double v = s ? (b ? b[i] : NAN) : a[i];
            if (isfinite(v) && (!positive || v > 0)) {
                *lo = fmin(*lo, v);
                *hi = fmax(*hi, v);
            }
        }
}

/* The y range of the series that are drawn, padded; accuracy stays in
 * [0, 1]. */
static void y_range(const double *a, const double *b, size_t n, int unit,
                    double *lo, double *hi)
{
    extent(a, b, n, 0, lo, hi);
    if (*lo > *hi)
        *lo = 0, *hi = 1;
    double pad = *hi > *lo ? 0.05 * (*hi - *lo) : fmax(0.05 * fabs(*hi), 0.05);
    *lo -= pad;
    *hi += pad;
    if (unit)
        *lo = fmax(*lo, 0), *hi = fmin(*hi, 1);
}

/* Whether the series span a factor of 10 or more, all positive: a loss
 * that a linear axis would flatten. */
static int spans_decade(const double *a, const double *b, size_t n)
{
    double lo, hi;
    extent(a, b, n, 0, &lo, &hi);
    return lo <= hi && lo > 0 && hi >= 10 * lo;
}

/* The log10 range of the positive values, padded by a twentieth. */
static void log_range(const double *a, const double *b, size_t n,
                      double *lo, double *hi)
{
    extent(a, b, n, 1, lo, hi);
    if (*lo > *hi) {
        *lo = -1, *hi = 0;
    } else {
        *lo = log10(*lo);
        *hi = log10(*hi);
    }
    double pad = fmax(0.05 * (*hi - *lo), 0.05);
    *lo -= pad;
    *hi += pad;
}

/* Log ticks: 1, 2 and 5 times the powers of ten in range (only the
 * powers when the range spans more than three decades). */
static void ticks_log(FILE *f, const axes *a)
{
    static const double mantissa[] = {1, 2, 5};
    int only_powers = a->ymax - a->ymin > 3;
    for (double e = floor(a->ymin); e <= ceil(a->ymax); e++)
        for (int m = 0; m < (only_powers ? 1 : 3); m++) {
            double v = mantissa[m] * pow(10, e);
            if (log10(v) < a->ymin || log10(v) > a->ymax)
                continue;
            double y = py(a, v);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                    "y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", a->x0, y,
                    a->x0 + a->w, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g"
                    "</text>\n", a->x0 - 6, y + 4, v);
        }
}

static void ticks_y(FILE *f, const axes *a)
{
    if (a->log) {
        ticks_log(f, a);
        return;
    }
    double step = nice_step(a->ymax - a->ymin);
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    for (double v = ceil(a->ymin / step) * step; v <= a->ymax + 1e-12;
         v += step) {
        double y = py(a, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#e0e0e0\"/>\n", a->x0, y, a->x0 + a->w, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f"
                "</text>\n", a->x0 - 6, y + 4, decimals, fabs(v) < step / 2
                                                             ? 0.0 : v);
    }
}

static void ticks_x(FILE *f, const axes *a)
{
    double step = fmax(1, round(nice_step(a->xmax - a->xmin)));
    for (double v = ceil(a->xmin / step) * step; v <= a->xmax + 1e-9;
         v += step) {
        double x = px(a, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#e0e0e0\"/>\n", x, a->y0, x, a->y0 + a->h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f"
                "</text>\n", x, a->y0 + a->h + 16, v);
    }
}

static void frame(FILE *f, const axes *a, const char *title,
                  const char *ylabel)
{
    ticks_y(f, a);
    ticks_x(f, a);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"none\" stroke=\"#333\"/>\n", a->x0, a->y0, a->w, a->h);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "font-size=\"14\" font-weight=\"bold\">%s</text>\n",
            a->x0 + a->w / 2, a->y0 - 34, title);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">epoch"
            "</text>\n", a->x0 + a->w / 2, a->y0 + a->h + 36);
    fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">%s</text>\n", a->x0 - 48,
            a->y0 + a->h / 2, ylabel);
}

/* One series as a path (and dots when there are few epochs). */
static void curve(FILE *f, const axes *a, const double *v, size_t n,
                  const char *color, int dashed, const char *name)
{
    fprintf(f, "<path class=\"%s\" fill=\"none\" stroke=\"%s\" "
            "stroke-width=\"2\"%s d=\"", name, color,
            dashed ? " stroke-dasharray=\"6 4\"" : "");
    int pen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!drawable(a, v[i])) {
            pen = 0;
            continue;
        }
        fprintf(f, "%s%.1f %.1f", pen ? " L" : (i ? " M" : "M"),
                px(a, a->xmin + (double)i), py(a, v[i]));
        pen = 1;
    }
    fputs("\"/>\n", f);
    for (size_t i = 0; n <= 40 && i < n; i++)
        if (drawable(a, v[i]))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                    "fill=\"%s\"/>\n", px(a, a->xmin + (double)i), py(a, v[i]),
                    color);
}

/* One legend entry: a line sample and its words; returns the x after. */
static double legend_entry(FILE *f, double x, double y, const char *color,
                           const char *dash, const char *words)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"%s\" stroke-width=\"2\"%s%s%s/>\n", x, y - 4, x + 24,
            y - 4, color, *dash ? " stroke-dasharray=\"" : "", dash,
            *dash ? "\"" : "");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 30, y, words);
    return x + 30 + 7.0 * (double)strlen(words) + 16;
}

/* A row above the plot area: it never covers a curve. The best epoch is
 * named there, not beside its marker, where it could meet the curves. */
static void legend(FILE *f, const axes *a, const history *h)
{
    double y = a->y0 - 8, x = a->x0;
    x = legend_entry(f, x, y, TRAIN_COLOR, "", "training");
    if (!h->validated)
        return;
    x = legend_entry(f, x, y, VAL_COLOR, "6 4", "validation");
    char best[48];
    snprintf(best, sizeof best, "best, epoch %zu",
             h->first + history_best_epoch(h) + 1);
    legend_entry(f, x, y, "#2ca02c", "2 3", best);
}

static void best_marker(FILE *f, const axes *a, size_t best)
{
    double x = px(a, a->xmin + (double)best);
    fprintf(f, "<line class=\"best\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\" stroke=\"#2ca02c\" stroke-dasharray=\"2 3\"/>\n", x,
            a->y0, x, a->y0 + a->h);
}

static void panel(FILE *f, const history *h, int index, const double *train,
                  const double *val, const char *title, int unit, int log)
{
    axes a = {index * PANEL_W + LEFT, TOP + TITLE_H,
              PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM,
              (double)h->first + 1,
              (double)h->first + (h->n > 1 ? (double)h->n : 2), 0, 1, log};
    const double *v = h->validated ? val : NULL;
    if (log)
        log_range(train, v, h->n, &a.ymin, &a.ymax);
    else
        y_range(train, v, h->n, unit, &a.ymin, &a.ymax);
    fprintf(f, "<g id=\"%s\"%s>\n", title, log ? " class=\"log\"" : "");
    frame(f, &a, title, log ? "loss (log scale)" : title);
    if (h->validated)
        best_marker(f, &a, history_best_epoch(h));
    curve(f, &a, train, h->n, TRAIN_COLOR, 0, "training");
    if (h->validated)
        curve(f, &a, val, h->n, VAL_COLOR, 1, "validation");
    legend(f, &a, h);
    fputs("</g>\n", f);
}

int plot_write_svg(const history *h, const char *path, const char *title,
                   int log_loss)
{
    cli_out out;
    int st = cli_out_open(&out, path);
    if (st != ST_OK)
        return st;
    int panels = h->classify ? 2 : 1;
    /* wide enough for the title too (about 8 units a character) */
    int w = panels * PANEL_W, hgt = PANEL_H + TITLE_H;
    if ((size_t)w < 8 * strlen(title) + 40 && strlen(title) < 400)
        w = (int)(8 * strlen(title) + 40);
    fprintf(out.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
            "font-size=\"12\">\n<title>", w, hgt, w, hgt);
    xml_text(out.f, title);
    fprintf(out.f, "</title>\n<rect width=\"%d\" height=\"%d\" "
            "fill=\"white\"/>\n<text x=\"%d\" y=\"24\" text-anchor=\"middle\" "
            "font-size=\"15\">", w, hgt, w / 2);
    xml_text(out.f, title);
    fputs("</text>\n", out.f);
    if (h->n > 0) {
        const double *val = h->validated ? h->val_loss : NULL;
        int log = log_loss || spans_decade(h->train_loss, val, h->n);
        panel(out.f, h, 0, h->train_loss, h->val_loss, "loss", 0, log);
        if (h->classify)
            panel(out.f, h, 1, h->train_acc, h->val_acc, "accuracy", 1, 0);
    }
    fputs("</svg>\n", out.f);
    return cli_out_commit(&out);
}
