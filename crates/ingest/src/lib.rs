//! Reads catalog sources (folders, files, git) into validated entity batches
