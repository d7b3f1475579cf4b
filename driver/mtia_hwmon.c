// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: hwmon sensors (Documentation/hwmon/sysfs-interface),
 * so lm-sensors and other monitors see the board like any other chip:
 *
 *   temp1_input/_max/_crit     die temperature; clock slowdown; shutdown
 *   power1_input               board power now (last 100 ms sample)
 *   power1_average(_interval)  mean power over the telemetry window
 *   power1_cap (root: RW)      power limit; power1_cap_min/_max its range
 *   energy1_input              energy since the board powered on
 *
 * Values come from the device's telemetry registers (mtia_telemetry.c) in
 * hwmon's units: millidegrees, microwatts, microjoules. (6.12's hwmon has no
 * clock sensor type: the core clock is in sysfs, mtia/clock_mhz.)
 */

#include <linux/hwmon.h>
#include <linux/units.h>

#include "mtia_hw.h"

static int mtia_hwmon_reg(enum hwmon_sensor_types type, u32 attr, u32 *reg,
			  long *scale)
{
	*scale = 1;
	switch (type) {
	case hwmon_temp:
		switch (attr) {
		case hwmon_temp_input:
			*reg = MTIA_REG_TEL_TEMP;
			return 0;
		case hwmon_temp_max:
			*reg = MTIA_REG_TEL_TEMP_SLOWDOWN;
			return 0;
		case hwmon_temp_crit:
			*reg = MTIA_REG_TEL_TEMP_SHUTDOWN;
			return 0;
		}
		break;
	case hwmon_power:
		*scale = MICROWATT_PER_MILLIWATT;
		switch (attr) {
		case hwmon_power_input:
			*reg = MTIA_REG_TEL_POWER;
			return 0;
		case hwmon_power_average:
			*reg = MTIA_REG_TEL_POWER_AVG;
			return 0;
		case hwmon_power_average_interval:
			*scale = 1;	/* milliseconds */
			*reg = MTIA_REG_TEL_WINDOW_MS;
			return 0;
		case hwmon_power_cap:
			*reg = MTIA_REG_TEL_POWER_CAP;
			return 0;
		case hwmon_power_cap_min:
			*reg = MTIA_REG_TEL_POWER_CAP_MIN;
			return 0;
		case hwmon_power_cap_max:
			*reg = MTIA_REG_TEL_POWER_CAP_MAX;
			return 0;
		}
		break;
	default:
		break;
	}
	return -EOPNOTSUPP;
}

static int mtia_hwmon_read(struct device *dev, enum hwmon_sensor_types type,
			   u32 attr, int channel, long *val)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);
	long scale;
	u64 mj;
	u32 reg, v;
	int ret;

	if (type == hwmon_energy && attr == hwmon_energy_input) {
		ret = mtia_tel_energy(mdev, &mj);
		if (!ret)
			*val = mj * 1000;	/* microjoules */
		return ret;
	}
	ret = mtia_hwmon_reg(type, attr, &reg, &scale);
	if (!ret)
		ret = mtia_tel_read(mdev, reg, &v);
	if (ret)
		return ret;
	/* Temperatures are signed; the rest fit a long once scaled. */
	*val = type == hwmon_temp ? (long)(s32)v : (long)v * scale;
	return 0;
}

static int mtia_hwmon_write(struct device *dev, enum hwmon_sensor_types type,
			    u32 attr, int channel, long val)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	if (type != hwmon_power || attr != hwmon_power_cap)
		return -EOPNOTSUPP;
	if (val < 0 || val > (long)U32_MAX * MICROWATT_PER_MILLIWATT)
		return -EINVAL;
	return mtia_tel_set_power_cap(mdev, DIV_ROUND_CLOSEST(val,
					MICROWATT_PER_MILLIWATT));
}

static int mtia_hwmon_read_string(struct device *dev,
				  enum hwmon_sensor_types type, u32 attr,
				  int channel, const char **str)
{
	switch (type) {
	case hwmon_temp:
		*str = "die";
		return 0;
	case hwmon_power:
	case hwmon_energy:
		*str = "board";
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static umode_t mtia_hwmon_is_visible(const void *data,
				     enum hwmon_sensor_types type, u32 attr,
				     int channel)
{
	if (type == hwmon_power && attr == hwmon_power_cap)
		return 0644;
	return 0444;
}

static const struct hwmon_channel_info *const mtia_hwmon_info[] = {
	HWMON_CHANNEL_INFO(temp, HWMON_T_INPUT | HWMON_T_MAX | HWMON_T_CRIT |
			   HWMON_T_LABEL),
	HWMON_CHANNEL_INFO(power, HWMON_P_INPUT | HWMON_P_AVERAGE |
			   HWMON_P_AVERAGE_INTERVAL | HWMON_P_CAP |
			   HWMON_P_CAP_MIN | HWMON_P_CAP_MAX | HWMON_P_LABEL),
	HWMON_CHANNEL_INFO(energy, HWMON_E_INPUT | HWMON_E_LABEL),
	NULL
};

static const struct hwmon_ops mtia_hwmon_ops = {
	.is_visible = mtia_hwmon_is_visible,
	.read = mtia_hwmon_read,
	.write = mtia_hwmon_write,
	.read_string = mtia_hwmon_read_string,
};

static const struct hwmon_chip_info mtia_hwmon_chip = {
	.ops = &mtia_hwmon_ops,
	.info = mtia_hwmon_info,
};

/**
 * mtia_hwmon_init() - register the hwmon device (device-managed: it goes at
 * unbind, before BAR0 is unmapped). A failure only loses the sensors.
 * @mdev: the device, telemetry probed (mtia_tel_init()).
 */
void mtia_hwmon_init(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;
	struct device *hwmon;

	if (!mdev->tel_present)
		return;
	hwmon = devm_hwmon_device_register_with_info(dev, MTIA_DRIVER_NAME,
						     mdev, &mtia_hwmon_chip,
						     NULL);
	if (IS_ERR(hwmon))
		dev_warn(dev, "no hwmon sensors (%ld)\n", PTR_ERR(hwmon));
}
