"""Capacity tasks.

StartCapacityTask, GetCapacityTask, ListCapacityTasks, CancelCapacityTask,
ListBlockingInstancesForCapacityTask.
"""
